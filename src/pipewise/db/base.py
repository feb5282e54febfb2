import os
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, JSON, Column, ColumnElement, BigInteger, DateTime, Integer, MetaData, Numeric, String, TypeDecorator, Uuid, any_, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An auto-incrementing 64-bit key that SQLite accepts as its rowid alias.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(18, 2)


def utcnow() -> datetime:
    return datetime.now(UTC)


_RANDOM_BITS = 74  # rand_a (12 bits) and rand_b (62 bits), taken as one number
_last_uuid7 = [0, 0]  # the last id's millisecond and random part
_uuid7_lock = threading.Lock()
os.register_at_fork(after_in_child=lambda: _last_uuid7.__setitem__(slice(None), [0, 0]))


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): ids sort by creation time, which keeps
    B-tree inserts append-only and makes id order a stable default sort. Within one
    millisecond a process's ids still increase (the random part grows by a random step,
    RFC 9562 §6.2 method 2): code that tells older from newer by id needs that."""
    with _uuid7_lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_random = _last_uuid7
        if ms > last_ms:
            random_part = int.from_bytes(os.urandom(10), "big") >> (80 - _RANDOM_BITS + 1)  # room to grow
        else:
            ms, random_part = last_ms, last_random + 1 + (int.from_bytes(os.urandom(4), "big") >> 1)
            if random_part >> _RANDOM_BITS:  # the millisecond is full: borrow the next one
                ms, random_part = ms + 1, int.from_bytes(os.urandom(10), "big") >> (80 - _RANDOM_BITS + 1)
        _last_uuid7[:] = [ms, random_part]
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (random_part >> 62) << 64
    value |= 0b10 << 62
    value |= random_part & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite drops the zone).
    A time given without a zone is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Any:
        standard = super().bind_processor(dialect)
        if dialect.name != "sqlite" or standard is None:
            return standard

        def process(value: Any) -> Any:
            # A time already in UTC (nearly all: ``utcnow``) made straight into the text that
            # SQLAlchemy's SQLite DATETIME writes, 'YYYY-MM-DD HH:MM:SS.ffffff', at a third of
            # the cost of its conversion and formatting; a record's write binds several.
            if type(value) is datetime and value.tzinfo is UTC:
                text = value.isoformat(" ")
                return text[:26] if value.microsecond else text[:19] + ".000000"
            return standard(value)

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name == "sqlite":
            return _utc_from_sqlite
        return super().result_processor(dialect, coltype)


def _utc_from_sqlite(value: Any) -> datetime | None:
    """SQLite keeps a timestamp as its UTC text ('2026-03-04 12:34:56.123456'). Parsed with
    the zone appended it is several times quicker than parsed and then given its zone (a
    report reads tens of thousands)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
    except (TypeError, ValueError):  # written with a zone, or read as something else
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        Decimal: Money,
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        str: String(),
    }


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Versioned:
    """A record's version, for ETags and ``If-Match``. Every ORM UPDATE sets
    ``version = <old> + 1 … WHERE version = <old>`` in the same statement (SQLAlchemy's
    ``version_id_col``), so a write that lost a race fails instead of overwriting. Rows
    inserted without the ORM (batch imports) start at the server default."""

    version: Mapped[int] = mapped_column(server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}


class LargestFirst(ColumnElement[Any]):
    """An index column kept in the order a "biggest first" list reads it: DESC with the
    empty values last. PostgreSQL walks an ASC index backwards as DESC NULLS FIRST, so a
    list sorted DESC NULLS LAST would sort every row; SQLite's NULLs sort lowest, so a
    plain index walked backwards already ends with them."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Column[Any]) -> None:
        self.column = column


@compiles(LargestFirst)
def _largest_first(element: LargestFirst, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **{**kw, "include_table": False})


@compiles(LargestFirst, "postgresql")
def _largest_first_postgresql(element: LargestFirst, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **{**kw, "include_table": False}) + " DESC NULLS LAST"


def on_sqlite_index(statement: Any, model: type, index: str) -> Any:
    """``statement`` reading ``model`` by its ``index`` on SQLite (``INDEXED BY``), whatever
    the planner's statistics say. For a queue's partial index (rows not yet handled):
    statistics taken while the table was small (they are refreshed hourly) make SQLite
    walk every handled row in key order instead, a cost that grows with the table —
    0.8 ms at 10,000 handled events, against 4 µs by the index."""
    return statement.with_hint(model, f"INDEXED BY {index}", "sqlite")


def _table_hint(compiler: SQLiteCompiler, table: Any, text: str) -> str:
    return text


# SQLAlchemy's SQLite compiler drops table hints; SQLite takes INDEXED BY right after the
# table's name, which is where a hint goes (as on MySQL, whose compiler does the same).
SQLiteCompiler.get_from_hint_text = _table_hint  # type: ignore[method-assign]


def among(session: Any, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)``, for a batch's many ids. On PostgreSQL ``column = ANY(array)``:
    one parameter however many values, where an IN list of hundreds made SQLAlchemy expand
    and psycopg parse the statement anew at every run (psycopg keeps its parse of a
    statement only up to 50 parameters), about a tenth of a worker's time per routed lead."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]
