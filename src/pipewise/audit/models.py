import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, utcnow


class AuditEntry(Base):
    """One thing someone (or something) did. Rows are only ever added; the retention purge
    removes whole rows past the company's retention period, nothing changes one."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # No foreign key: the entry outlives the user it names; the label keeps who it was.
    actor_id: Mapped[uuid.UUID | None]
    actor_label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    via: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_actor", "actor_id", "at"),
        Index("ix_audit_entry_target", "target_type", "target_id", "at"),
        Index("ix_audit_entry_action", "action", "at"),
    )


class AuditPolicy(Base):
    """The company's one retention setting (no row: the default)."""

    __tablename__ = "audit_policy"

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    retention_days: Mapped[int] = mapped_column(default=730)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None]
