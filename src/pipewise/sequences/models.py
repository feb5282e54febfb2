"""Tables of the sequences package: templates, sequences with their steps and A/B
variants, enrollments, and the decision log that explains every touch that was sent, held
or skipped. Mailboxes, the e-mail ledger and the suppression list belong to ``mail``."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow
from pipewise.mail.models import EmailMessage, MailAddress, Mailbox, Suppression  # noqa: F401 - the ledger the steps write to


def _user_fk(*, nullable: bool = True, unique: bool = False) -> Any:
    return mapped_column(ForeignKey("user.id", ondelete="SET NULL" if nullable else "CASCADE"), index=True, unique=unique)


class EmailTemplate(UUIDPrimaryKey, Timestamps, Base):
    """A reusable subject and body (kind "template"), or a snippet included by key."""

    __tablename__ = "email_template"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="template")  # template | snippet
    key: Mapped[str | None] = mapped_column(String(60), unique=True)  # snippets only
    subject: Mapped[str] = mapped_column(String(500), default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = _user_fk()
    # Carries a price, discount or offer: held while the contact has an open sent quote.
    mentions_pricing: Mapped[bool] = mapped_column(default=False, server_default=false())


class Sequence(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sequence"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)  # draft|active|paused|archived
    owner_id: Mapped[uuid.UUID | None] = _user_fk()
    # Sends as this user instead of each contact's owner.
    sender_id: Mapped[uuid.UUID | None] = _user_fk()
    # A contact in this sequence may also be in others at the same time.
    allow_concurrent: Mapped[bool] = mapped_column(default=False)
    # SequenceRules (schemas.py): what each sales signal does to an enrollment.
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The percentage of contacts that would enroll held out to measure the effect (runs/holdout.py).
    holdout_percent: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class SequenceStep(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sequence_step"

    sequence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sequence.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # auto_email | manual_email | call | task
    delay_days: Mapped[int] = mapped_column(default=0)
    business_days: Mapped[bool] = mapped_column(default=True)
    # Follow-ups answer the previous e-mail of the enrollment (Re:, In-Reply-To, References).
    thread: Mapped[bool] = mapped_column(default=True)
    task_title: Mapped[str | None] = mapped_column(String(300))
    task_notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("sequence_id", "position"),)


class StepVariant(UUIDPrimaryKey, Timestamps, Base):
    """One version of a step's e-mail; several variants make an A/B test."""

    __tablename__ = "step_variant"

    step_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sequence_step.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(20), default="A")
    weight: Mapped[int] = mapped_column(default=1)
    subject: Mapped[str] = mapped_column(String(500), default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str | None] = mapped_column(Text)
    mentions_pricing: Mapped[bool] = mapped_column(default=False, server_default=false())  # see EmailTemplate

    __table_args__ = (UniqueConstraint("step_id", "label"),)


LIVE_STATES = ("active", "paused")


class Enrollment(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "enrollment"

    sequence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sequence.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    sender_id: Mapped[uuid.UUID | None] = _user_fk()
    status: Mapped[str] = mapped_column(String(10), default="active")  # active|paused|finished|exited|held_out
    reason: Mapped[str | None] = mapped_column(Text)
    next_step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sequence_step.id", ondelete="SET NULL"))
    next_run_at: Mapped[datetime | None]
    # A pause with a date resumes by itself; without one it waits for a person.
    paused_until: Mapped[datetime | None]
    enrolled_by: Mapped[uuid.UUID | None]
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    last_touch_at: Mapped[datetime | None]
    # Signals before this moment are already accounted for (enrolment look-back, or a
    # person resumed the enrollment after seeing them).
    signals_after: Mapped[datetime] = mapped_column(default=utcnow)
    # The open task a manual step waits on.
    waiting_task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"), index=True)
    # Bumped on every reschedule so that each planned run has its own timer key.
    schedule_version: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index(
            "uq_enrollment_live",
            "sequence_id",
            "contact_id",
            unique=True,
            postgresql_where=text("status IN ('active', 'paused')"),
            sqlite_where=text("status IN ('active', 'paused')"),
        ),
        Index("ix_enrollment_contact_status", "contact_id", "status"),
        Index("ix_enrollment_account_status", "account_id", "status"),
    )


class SequenceDecision(Base):
    """Why an enrollment did what it did: enrolled, sent, held, skipped, paused, resumed,
    exited, finished. The contact's timeline reads these."""

    __tablename__ = "sequence_decision"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.id", ondelete="CASCADE"), index=True)
    sequence_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID] = mapped_column(index=True)
    step_id: Mapped[uuid.UUID | None]
    decision: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
