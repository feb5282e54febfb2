"""Global search: records whose name, e-mail, phone or domain starts with what was typed,
found through an index on the field's lower-case form so a lookup stays fast at any table
size.

Every search field of a record type (``RecordSpec.search_fields``, plus its ``phone``)
gets an expression index ``lower(column)`` (``search_keys.search_indexes``, declared
beside the model), except e-mail addresses and domains: every write stores those
lower-cased already (``records.normalize``), so their plain index serves, and a record
costs one b-tree less to write for each. A search reads each field as a key range, ``key
>= 'ada' AND key < 'adb'``, which both SQLite and PostgreSQL (byte-ordered ``C``
collation) answer from that index, newest matches never scanned past the limit. A list
sorted by one of these fields sorts by the same key (``search_keys.sort_key``): case does
not split the alphabet, and the index is walked in order. With several words the longest
one drives the index and every other word must appear in one of the fields. The acting
user's visibility applies to every query."""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.records.registry import RecordSpec, spec_for
from pipewise.records.repository import RecordRepository
from pipewise.records.search_keys import key as _key

MIN_CHARS = 2
MAX_CHARS = 100
PHONE_FIELD = "phone"
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{3,}$")


def searched_fields(spec: RecordSpec) -> tuple[str, ...]:
    columns = spec.model.__table__.columns
    return spec.search_fields + ((PHONE_FIELD,) if PHONE_FIELD in columns and PHONE_FIELD not in spec.search_fields else ())


def words_of(text: str) -> list[str]:
    """The words of a search, lower-cased; a phone number stays one word, digits only
    (stored numbers are E.164: ``+4930…``)."""
    text = text.strip()[:MAX_CHARS]
    if PHONE_RE.match(text) and sum(ch.isdigit() for ch in text) >= 3:
        return ["+" + "".join(ch for ch in text if ch.isdigit())]
    return [w for w in text.lower().split() if w]


def _next_key(prefix: str) -> str:
    """The smallest string above every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    key = _key(column)
    return and_(key >= prefix, key < _next_key(prefix))


def _contains(column: Any, word: str) -> ColumnElement[bool]:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


@dataclass(frozen=True)
class Hit:
    record_type: str
    record: Any


def search_type(session: Session, actor: Actor, record_type: str, text: str, *, limit: int) -> list[Any]:
    """Up to ``limit`` visible records of ``record_type`` matching ``text``, by field then key."""
    words = words_of(text)
    if not words or len(max(words, key=len)) < MIN_CHARS:
        return []
    spec = spec_for(record_type)
    model = spec.model
    repo: RecordRepository[Any] = RecordRepository(session, spec)
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    driver, others = words[longest], words[:longest] + words[longest + 1 :]
    fields = searched_fields(spec)
    phone_search = driver.startswith("+")
    visible = repo.visibility(actor)
    if visible is not None and session.get_bind().dialect.name == "sqlite":
        # Wrapped, the owner test cannot drive the query: SQLite would otherwise walk all
        # of a rep's visible rows by owner instead of the few the prefix index points at.
        visible = func.likelihood(visible, literal_column("0.9")).is_(True)
    found: dict[uuid.UUID, Any] = {}
    for name in fields:
        if phone_search != (name == PHONE_FIELD):
            continue
        column = getattr(model, name)
        stmt = select(model).where(_starts_with(column, driver))
        if visible is not None:
            stmt = stmt.where(visible)
        for word in others:
            stmt = stmt.where(or_(*(_contains(getattr(model, f), word) for f in fields)))
        # In the index's own order, so the first matches end the walk (no sort of them all).
        stmt = stmt.order_by(_key(column)).limit(limit)
        for record in session.scalars(stmt):
            found.setdefault(record.id, record)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def search(session: Session, actor: Actor, text: str, record_types: Iterable[str], *, per_type: int) -> list[Hit]:
    """The matches of every type in ``record_types`` order, ``per_type`` at most each."""
    return [
        Hit(record_type, record)
        for record_type in record_types
        for record in search_type(session, actor, record_type, text, limit=per_type)
    ]
