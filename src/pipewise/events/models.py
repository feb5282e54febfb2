import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, utcnow


# The partial indexes of the work still to do, which the worker's queue reads name to
# SQLite (``db.base.on_sqlite_index``).
OUTBOX_PENDING_INDEX = "ix_outbox_event_pending"
DELIVERY_DUE_INDEX = "ix_event_delivery_due"
ACTION_DUE_INDEX = "ix_scheduled_action_due"


class OutboxEvent(Base):
    """A domain event, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        # Workers look for unprocessed rows only; a partial index keeps that scan tiny
        # however many processed events the table holds.
        Index(
            OUTBOX_PENDING_INDEX,
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
        Index("ix_outbox_event_record", "record_type", "record_id"),
    )


class EventDelivery(Base):
    """A subscriber that failed on an event, kept for retry with backoff and, past the
    attempt limit, parked as dead so a person can see and retry it."""

    __tablename__ = "event_delivery"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(index=True)
    subscriber: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="retry")  # retry | done | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("event_id", "subscriber"),
        Index(
            DELIVERY_DUE_INDEX,
            "next_attempt_at",
            postgresql_where=text("status = 'retry'"),
            sqlite_where=text("status = 'retry'"),
        ),
    )


class ScheduledAction(Base):
    """A durable timer: work due at ``run_at``, claimed by exactly one worker.

    ``key`` is the idempotency key of the work (e.g. workflow version + enrollment + step),
    so scheduling the same work twice is a no-op."""

    __tablename__ = "scheduled_action"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]]
    run_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|done|dead|cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        # Claiming due work walks this index from its oldest entry, so its cost depends on
        # how much is due, not on how many timers are pending in the future.
        Index(
            ACTION_DUE_INDEX,
            "run_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
