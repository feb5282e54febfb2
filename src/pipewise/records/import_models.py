"""The tables of a record import (accounts, contacts, deals): the run and its row report;
``ImportRun``, the columns every import's run has (the lead import's too)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey


class ImportRun:
    """What every CSV import keeps about its run: the file, the choices, the counts, the end."""

    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    on_duplicate: Mapped[str] = mapped_column(String(10), default="skip")  # skip | update | create
    actor_id: Mapped[uuid.UUID | None]
    total_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class RecordImport(ImportRun, UUIDPrimaryKey, Timestamps, Base):
    """One CSV import of one record type, and how it ended. Its status is pending, running,
    done, dry_run, rolled_back (all_or_nothing with a bad row) or failed."""

    __tablename__ = "record_import"

    record_type: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(20), default="per_row")  # per_row | all_or_nothing
    dry_run: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_record_import_actor", "actor_id", "created_at"),)


class RecordImportRow(Base):
    """What happened to one line of the file: its outcome, the record it made or changed,
    and the problems by field (``""`` for the row as a whole)."""

    __tablename__ = "record_import_row"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("record_import.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # created | updated | skipped | rejected | would_* | not_written
    record_id: Mapped[uuid.UUID | None]
    errors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    excerpt: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_record_import_row_import_line", "import_id", "line"),)
