"""Endpoints that subscribe to events, the messages each is sent, and every attempt."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipewise.db.base import Base, BigIntPK, JSONType, Timestamps, UUIDPrimaryKey, utcnow

# A message's life: pending (an attempt is scheduled) → delivered, or failed (given up);
# waiting: an ordered endpoint holds it until the record's earlier message is finished.
PENDING, WAITING, DELIVERED, FAILED = "pending", "waiting", "delivered", "failed"
UNFINISHED = (PENDING, WAITING)


class WebhookEndpoint(UUIDPrimaryKey, Timestamps, Base):
    """A URL that receives the events matching ``event_types`` (``deal.*``, ``*``)."""

    __tablename__ = "webhook_endpoint"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The signing secret (``whsec_`` + base64) must be readable to sign with; it is never
    # shown again after creation or rotation. The previous one signs too until it expires.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    ordered: Mapped[bool] = mapped_column(default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # When the current run of failed attempts began (None: the last attempt succeeded).
    failing_since: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class WebhookMessage(Base):
    """One event (or a test ping) for one endpoint. Its ``webhook_id`` is the same on
    every attempt and every replay, so a receiver can drop what it already handled."""

    __tablename__ = "webhook_message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    # Kept as written, also when records merge: a log of what was sent (so no ``<x>_type``
    # / ``<x>_id`` column pair, which merges re-point).
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # the outbox event; None for a ping
    event_name: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[uuid.UUID | None]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    # Attempts since the message was sent or last replayed; ``round`` counts replays, so
    # an attempt scheduled before a replay knows it is no longer wanted.
    attempts: Mapped[int] = mapped_column(default=0)
    round: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_message_endpoint_event"),
        Index("ix_webhook_message_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_webhook_message_record", "endpoint_id", "record_id", "event_id"),
    )

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"


class WebhookAttempt(Base):
    """One HTTP request for a message, as sent, and what came back."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_message.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # delivered | failed | refused (netguard: never contacted) | gone (410: endpoint disabled)
    outcome: Mapped[str] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(2000))
    request_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)  # at most RESPONSE_BODY_LIMIT characters
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_webhook_attempt_endpoint_at", "endpoint_id", "at"),)
