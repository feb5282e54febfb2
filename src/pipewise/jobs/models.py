import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, Timestamps, UUIDPrimaryKey


class Job(UUIDPrimaryKey, Timestamps, Base):
    """One run of long work and how far it got."""

    __tablename__ = "job"

    kind: Mapped[str] = mapped_column(String(40))  # lead_import | dedup_scan | scoring_training | ...
    title: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[uuid.UUID | None]  # who started it; their managers and admins see it too
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done | failed
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]  # None while the size of the work is not known
    unit: Mapped[str] = mapped_column(String(20), default="rows")
    step: Mapped[str | None] = mapped_column(String(200))  # what it is doing now, in words
    result_url: Mapped[str | None] = mapped_column(String(500))  # where the outcome is shown
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]  # last progress; a running job silent for long was interrupted

    __table_args__ = (Index("ix_job_actor", "actor_id", "created_at"),)
