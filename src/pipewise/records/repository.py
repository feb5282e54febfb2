"""Queries for records, with the acting user's visibility applied on every path."""

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.errors import FieldError, ValidationFailed
from pipewise.events.base import jsonable
from pipewise.records.filters import FilterCompiler, coerce
from pipewise.records.registry import RecordSpec
from pipewise.records.search_keys import sort_key, sorts_lower_case

M = TypeVar("M")
MAX_PAGE = 500


@dataclass
class ListQuery:
    filter: dict[str, Any] | None = None
    q: str | None = None
    sort: str = "-created_at"
    cursor: str | None = None
    limit: int = 50


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _bad(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field_name}: {message}", errors=[FieldError(field_name, message)])


class RecordRepository(Generic[M]):
    def __init__(self, session: Session, spec: RecordSpec) -> None:
        self.session = session
        self.spec = spec
        self.model: Any = spec.model

    @classmethod
    def from_session(cls, session: Session, spec: RecordSpec) -> "RecordRepository[M]":
        return cls(session, spec)

    def visibility(self, actor: Actor, *, write: bool = False) -> ColumnElement[bool] | None:
        if not self.spec.owned:
            return None
        return owner_clause(self.model.owner_id, actor, write=write)

    def visible(self, stmt: Select, actor: Actor, *, write: bool = False) -> Select:
        clause = self.visibility(actor, write=write)
        return stmt if clause is None else stmt.where(clause)

    def get(self, record_id: uuid.UUID, actor: Actor, *, write: bool = False, lock: bool = False) -> M | None:
        """One visible record; ``lock`` reads it fresh and holds its row until commit
        (``FOR UPDATE`` on PostgreSQL; SQLite's writers already run one at a time)."""
        stmt = self.visible(select(self.model).where(self.model.id == record_id), actor, write=write)
        if lock:
            stmt = stmt.with_for_update(of=self.model).execution_options(populate_existing=True)
        return self.session.scalar(stmt)

    def list(self, actor: Actor, query: ListQuery) -> Page[M]:
        limit = max(1, min(query.limit, MAX_PAGE))
        stmt, column = self.list_statement(actor, query)
        rows = list(self.session.scalars(stmt.limit(limit + 1)))
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = self._encode(column.name, self._position(last, column.key), last.id)
        return Page(rows, next_cursor)

    def list_statement(self, actor: Actor, query: ListQuery) -> tuple[Select, Any]:
        """The list's SELECT (visibility, filter, search, keyset position, order) without its
        limit, and the sort column; the query-plan tests read it."""
        stmt = self.visible(select(self.model), actor)
        if query.filter:
            stmt = stmt.where(FilterCompiler(self.session, self.spec).compile(query.filter))
        if query.q:
            stmt = stmt.where(self._search(query.q))
        descending = query.sort.startswith("-")
        sort_name = query.sort.lstrip("-+")
        column = self.model.__table__.columns.get(sort_name)
        if column is None or sort_name in self.spec.hidden_fields:
            raise _bad("sort", f"{self.spec.name} has no field {sort_name!r} to sort by")
        sort_col = sort_key(self.model, column.key)
        if query.cursor:
            stmt = stmt.where(self._after(sort_col, descending, self._decode(query.cursor, sort_name, column.type)))
        order = sort_col.desc() if descending else sort_col.asc()
        if column.nullable:
            # Only where NULLs can occur: PostgreSQL walks an index backwards as DESC NULLS
            # FIRST, so "DESC NULLS LAST" on created_at would sort the matching rows instead.
            order = order.nulls_last()
        id_order = self.model.id.desc() if descending else self.model.id.asc()
        return stmt.order_by(order, id_order), column

    def _position(self, record: Any, name: str) -> Any:
        """The last row's value of the list's sort key. A lower-cased key is read back from
        the database: its lower() and Python's differ beyond ASCII, and the next page
        starts after the key the database compares."""
        if not sorts_lower_case(self.model, name):
            return getattr(record, name)
        return self.session.scalar(select(sort_key(self.model, name)).where(self.model.id == record.id))

    def _search(self, text: str) -> ColumnElement[bool]:
        if not self.spec.search_fields:
            raise _bad("q", f"{self.spec.plural} cannot be searched")
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return or_(*(getattr(self.model, f).ilike(f"%{escaped}%", escape="\\") for f in self.spec.search_fields))

    @staticmethod
    def _encode(sort_name: str, value: Any, record_id: uuid.UUID) -> str:
        raw = json.dumps([sort_name, jsonable(value), str(record_id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str, sort_name: str, sa_type: Any) -> tuple[Any, uuid.UUID]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            name, value, record_id = json.loads(raw)
            if name != sort_name:
                raise ValueError
            return (None if value is None else coerce(sa_type, value, "cursor")), uuid.UUID(record_id)
        except (ValueError, TypeError, json.JSONDecodeError, ValidationFailed):
            raise _bad("cursor", "is not a cursor from this list (was the sort changed?)") from None

    def _after(self, sort_col: Any, descending: bool, position: tuple[Any, uuid.UUID]) -> ColumnElement[bool]:
        """Keyset condition for 'rows after this one' in (sort NULLS LAST, id) order."""
        value, last_id = position
        id_after = self.model.id < last_id if descending else self.model.id > last_id
        if value is None:
            return and_(sort_col.is_(None), id_after)
        beyond = sort_col < value if descending else sort_col > value
        return or_(beyond, and_(sort_col == value, id_after), sort_col.is_(None))
