"""Availability, booking pages and meetings. Times are stored in UTC; each person's
working hours are wall-clock times in their own zone, turned into UTC per day (DST-correct)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
from pipewise.records.models import owner_fk

ACTIVE_STATUSES = ("scheduled", "rescheduled")
STATUSES = (*ACTIVE_STATUSES, "cancelled", "held", "no_show")
PAGE_KINDS = ("one_to_one", "round_robin", "collective")
PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")


class Availability(Timestamps, Base):
    """When a user can be booked. ``weekly_hours`` maps a weekday ("0" = Monday) to
    ``[["09:00", "12:00"], ["13:00", "17:00"]]`` in ``timezone``; an empty map falls back to
    the routing working hours (one company-wide policy)."""

    __tablename__ = "meeting_availability"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int] = mapped_column(default=240)
    horizon_days: Mapped[int] = mapped_column(default=60)
    daily_limit: Mapped[int | None]


class BookingPage(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A public page (``/book/{slug}``) where a visitor picks a slot with one of its hosts."""

    __tablename__ = "booking_page"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12), default="one_to_one")
    owner_id: Mapped[uuid.UUID | None] = owner_fk()
    duration_minutes: Mapped[int] = mapped_column(default=30)
    slot_step_minutes: Mapped[int] = mapped_column(default=15)
    location: Mapped[str | None] = mapped_column(String(500))
    # [{"key": "company", "label": "Company", "required": true}]
    questions: Mapped[list[Any]] = mapped_column(default=list)
    equal_distribution: Mapped[bool] = mapped_column(default=False)
    contact_owner_first: Mapped[bool] = mapped_column(default=False)
    rate_limit_per_hour: Mapped[int] = mapped_column(default=10)
    is_active: Mapped[bool] = mapped_column(default=True)


class BookingHost(Base):
    __tablename__ = "booking_host"

    page_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("booking_page.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    priority: Mapped[int] = mapped_column(default=0)  # higher first
    weight: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_booking_host_user", "user_id"),)


class Meeting(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One meeting; ``uid`` stays the same for its life, ``sequence`` grows on every change
    (RFC 5545), and ``nonce`` changes on reschedule and cancel so old links stop working."""

    __tablename__ = "meeting"

    host_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking_page.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    location: Mapped[str | None] = mapped_column(String(500))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # the booker's
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    nonce: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"), index=True)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"), index=True)
    activity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    booker_ip: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_meeting_host_time", "host_id", "start_at", "end_at"),
        # No two live meetings of one host start at the same moment: the last guard against
        # a double booking (the booking itself locks the hosts' rows first).
        Index(
            "uq_meeting_host_start_active", "host_id", "start_at", unique=True,
            sqlite_where=text("status IN ('scheduled', 'rescheduled')"),
            postgresql_where=text("status IN ('scheduled', 'rescheduled')"),
        ),
    )


class MeetingAttendee(Base):
    """Who is invited: the booker (and co-hosts of a collective page, with ``user_id``)."""

    __tablename__ = "meeting_attendee"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    partstat: Mapped[str] = mapped_column(String(16), default="NEEDS-ACTION")

    __table_args__ = (Index("ix_meeting_attendee_user", "user_id"), Index("ix_meeting_attendee_email", "email"))
