import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, LargestFirst, Timestamps, UUIDPrimaryKey, Versioned, utcnow
from pipewise.records.models import custom_fields, owner_fk
from pipewise.records.search_keys import search_indexes


class Account(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "account"

    name: Mapped[str] = mapped_column(String(200))  # sorted and searched by lower(name)
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    size: Mapped[int | None]  # employees
    # owner_id and country are indexed as the first columns of the composite indexes below.
    country: Mapped[str | None] = mapped_column(String(2))
    owner_id: Mapped[uuid.UUID | None] = owner_fk(index=False)
    custom: Mapped[dict[str, Any]] = custom_fields()

    __table_args__ = (
        Index("ix_account_owner_created", "owner_id", "created_at"),
        Index("ix_account_country_created", "country", "created_at"),
    )


Index("ix_account_size", LargestFirst(Account.__table__.c.size))  # a list sorted biggest first walks it
search_indexes(Account, "name", "domain")


class Contact(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "contact"

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))  # sorted and searched by lower(last_name)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(150))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # owner_id and lifecycle_stage are indexed as the first columns of the composite indexes below.
    owner_id: Mapped[uuid.UUID | None] = owner_fk(index=False)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="lead")
    consent_state: Mapped[str] = mapped_column(String(20), default="unknown")
    custom: Mapped[dict[str, Any]] = custom_fields()

    __table_args__ = (
        Index("ix_contact_owner_created", "owner_id", "created_at"),
        Index("ix_contact_stage_created", "lifecycle_stage", "created_at"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


search_indexes(Contact, "first_name", "last_name", "email", "phone")


class Activity(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A call, e-mail, meeting or note, on any of lead / contact / account / deal."""

    __tablename__ = "activity"

    type: Mapped[str] = mapped_column(String(20), index=True)
    direction: Mapped[str | None] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_minutes: Mapped[int | None]
    owner_id: Mapped[uuid.UUID | None] = owner_fk()
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    # Set when automation rather than a person produced the activity.
    automated: Mapped[bool] = mapped_column(default=False)
    custom: Mapped[dict[str, Any]] = custom_fields()

    __table_args__ = (
        # The activities report reads a date range from the index alone (analytics.people).
        Index("ix_activity_occurred_cover", "occurred_at", "owner_id", "type", "deal_id"),
        # A lead's first activity by a person is the first entry under (lead, not automated).
        Index("ix_activity_lead_first", "lead_id", "automated", "occurred_at"),
    )


class Task(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "task"

    title: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    owner_id: Mapped[uuid.UUID | None] = owner_fk()
    related_type: Mapped[str | None] = mapped_column(String(20))
    related_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
    custom: Mapped[dict[str, Any]] = custom_fields()
    # When the assignee is reminded (a durable timer), and when they were.
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # An RRULE (``FREQ=WEEKLY;BYDAY=MO``) repeating from ``due_at``; completing the task
    # makes the next occurrence, once: ``next_task_id``.
    recurrence: Mapped[str | None] = mapped_column(String(500))
    next_task_id: Mapped[uuid.UUID | None]


class CalendarFeed(Base):
    """A user's calendar feed token: part of their signed .ics address; a new token ends
    every address given out before."""

    __tablename__ = "calendar_feed"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
