"""The kernel's own tables: custom field definitions and the field history of every record,
and the column helpers every owned record type uses."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, Versioned, utcnow


def owner_fk(*, index: bool = True) -> Mapped[uuid.UUID | None]:
    """``index=False`` where a composite index starts with the owner (it serves the same
    lookups, the foreign key's checks included, and each index costs every write)."""
    # RESTRICT: deleting an owner must not turn records into unowned ones open to every team.
    return mapped_column(ForeignKey("user.id", ondelete="RESTRICT"), index=index)


def index_of_set_values(model: Any, name: str) -> Index:
    """An index on ``name`` that holds only the rows where it is set (``ix_<table>_<name>``),
    for a column that most rows leave empty: a record without it costs no write to the
    index, and an equality (the foreign key's checks too) still finds the rows that have it."""
    column = model.__table__.c[name]
    set_only = column.is_not(None)
    return Index(f"ix_{model.__tablename__}_{name}", column, sqlite_where=set_only, postgresql_where=set_only)


def custom_fields() -> Mapped[dict[str, Any]]:
    return mapped_column(default=dict)


class CustomFieldDefinition(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "custom_field"

    record_type: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    field_type: Mapped[str] = mapped_column(String(10))  # text | number | date | choice
    choices: Mapped[list[Any]] = mapped_column(default=list)
    required: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("record_type", "key"),)


class RecordHistory(Base):
    """One row per write: who changed which fields of which record, from what to what."""

    __tablename__ = "record_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(20))  # created | updated | deleted | merged | ...
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field -> [old, new]
    actor_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_record_history_record", "record_type", "record_id", "at"),)
