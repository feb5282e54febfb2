"""Tables of the privacy package: the consent ledger, the retention rules and what each
run of a rule removed."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow


class ConsentEntry(Base):
    """One consent given or withdrawn by a person (a contact or a lead) for one purpose.
    Rows are only ever added: the current state of a purpose is its latest entry."""

    __tablename__ = "consent_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key: the proof of a withdrawal outlives the record it was about.
    subject_type: Mapped[str] = mapped_column(String(10))  # contact | lead
    subject_id: Mapped[uuid.UUID]
    purpose: Mapped[str] = mapped_column(String(30))  # marketing_email | sales_outreach | profiling | ...
    legal_basis: Mapped[str] = mapped_column(String(30))  # consent | legitimate_interest | contract | ...
    source: Mapped[str] = mapped_column(String(20))  # web_form | import | api | unsubscribe | rep
    action: Mapped[str] = mapped_column(String(10))  # given | withdrawn
    # sha256 of the consent text the person was shown (its version), hex.
    text_hash: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)  # when the person gave or withdrew it
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_label: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_consent_entry_subject", "subject_type", "subject_id", "purpose", "id"),)


class RetentionRule(UUIDPrimaryKey, Timestamps, Base):
    """What is deleted once it is older than ``months``; run daily by the worker with the
    rights of the admin who last saved it."""

    __tablename__ = "retention_rule"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))  # unconverted_leads | old_activities | idle_contacts
    months: Mapped[int]
    enabled: Mapped[bool] = mapped_column(default=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_run_at: Mapped[datetime | None]


class RetentionRun(Base):
    """One run of a rule: how many records it removed, which, and whether it stopped short."""

    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("retention_rule.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted: Mapped[int] = mapped_column(default=0)
    record_ids: Mapped[list[Any]] = mapped_column(default=list)  # the first ids removed, for the record
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_retention_run_rule", "rule_id", "at"),)
