"""Blocking keys: what a lead is compared with is found by looking up a few exact keys,
never by loading everyone who shares a surname or a company domain. Each lead and contact
keeps its keys in ``match_key``; two people that ``similarity.compare`` could call
duplicates share at least one of them in every case the check looked for before keys:

- ``e:<e-mail>`` and ``p:<phone E.164>``: the same address or number;
- ``nd:<surname's sound>|<domain>`` and ``ni:<initials>|<domain>``: a surname that sounds
  alike (Soundex: Smith and Smyth), or the same initials in either order (a typo in both
  names, first and last swapped), at the same domain;
- ``nc:<surname's sound>|<company>``: a surname that sounds alike at a company whose name
  starts alike (folded, legal suffixes and spaces dropped, first five letters: "U.S. Navy"
  and "US Navy");
- ``n:<last name>|<initial>``: the surname and the first initial, and ``n0:…`` the same
  for people without a company (who match a namesake on the name alone). A person with a
  company looks up ``n0:`` (namesakes without one), a person without one looks up ``n:``.

A key shared by more than ``MAX_BLOCK`` records says little (a common name at a big
company) and is passed over; the e-mail and phone keys are always followed (up to that
many records). Keys are written with their record (a lead's in its own transaction, a
contact's by the worker right after), and removed when the record changes; a key that no
longer fits its record — the record was deleted, merged or renamed elsewhere — is dropped
when a lookup finds it."""

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, select, tuple_, union_all
from sqlalchemy.orm import Session

from pipewise.crm.models import Account, Contact
from pipewise.db.deferred_inserts import driver_cursor
from pipewise.db.plain_statement import PlainStatement
from pipewise.db.session import insert_later
from pipewise.db.unit_of_work import existing_unit_of_work
from pipewise.leads.models import Lead, MatchKey
from pipewise.leads.similarity import Person, company_key, fold

# A key shared by more records than this is not followed (see the module's docstring).
MAX_BLOCK = 60
KEY_LENGTH = 200
COMPANY_LETTERS = 5
KEYED_TYPES = ("lead", "contact")
# The fields of a lead its keys are made of.
KEY_FIELDS = frozenset({"first_name", "last_name", "email", "phone", "company", "domain"})
_EXACT = ("e:", "p:")
_LEADING_ARTICLE = re.compile(r"^(the|die|der|la|le|el)\s+")


# Soundex digits; vowels (and digits) separate repeats, h and w do not.
_SOUNDEX = str.maketrans("bfpvcgjkqsxzdtlmnraeiouy0123456789", "111122222222334556" + "-" * 16)


def soundex(name: str) -> str:
    """American Soundex of a folded name: "smith" and "smyth" are S530, "johnson" and
    "jonson" J525 (letters that sound alike share a digit; vowels, h, w and y drop out)."""
    letters = name.replace(" ", "")
    if not letters:
        return ""
    digits, previous = [], letters[0].translate(_SOUNDEX)
    for char in letters[1:]:
        code = char.translate(_SOUNDEX)
        if code.isdigit() and code != previous:
            digits.append(code)
        if char not in "hw":
            previous = code
    return (letters[0].upper() + "".join(digits) + "000")[:4]


def company_letters(company: str | None) -> str:
    """The start of a company's name as keys hold it: "The Boeing Company" → "boein"."""
    return _LEADING_ARTICLE.sub("", company_key(company)).replace(" ", "")[:COMPANY_LETTERS]


def email_key(email: str) -> str:
    return ("e:" + email)[:KEY_LENGTH]


def keys_of(person: Person) -> set[str]:
    """The keys stored for ``person``."""
    first, last = fold(person.first_name), fold(person.last_name)
    company = company_letters(person.company)
    keys = set()
    if person.email:
        keys.add(email_key(person.email))
    if person.phone:
        keys.add("p:" + person.phone)
    sound = soundex(last)
    if last:
        keys.add(f"n:{last}|{first[:1]}")
        keys.add(f"nc:{sound}|{company}" if company else f"n0:{last}|{first[:1]}")
    if person.domain:
        if last:
            keys.add(f"nd:{sound}|{person.domain}")
        initials = "".join(sorted(name[:1] for name in (first, last) if name))
        keys.add(f"ni:{initials}|{person.domain}")
    return {key[:KEY_LENGTH] for key in keys}


def lookups_of(person: Person) -> set[str]:
    """The keys to look up to find who ``person`` may be."""
    keys = {key for key in keys_of(person) if not key.startswith("n0:")}
    if company_letters(person.company):
        keys = {("n0:" + key[2:] if key.startswith("n:") else key) for key in keys}
    return keys


def person_of(lead: Any) -> Person:
    return Person("lead", lead.id, lead.first_name, lead.last_name, lead.email, lead.phone, lead.company, lead.domain)


# -- writing keys --


def _rows(record_type: str, record_id: uuid.UUID, keys: Iterable[str]) -> list[dict[str, Any]]:
    return [{"key": key, "record_id": record_id, "record_type": record_type} for key in sorted(keys)]


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    # Deferred: written with the transaction's other new rows, in one executemany, before
    # anything but ``lookup`` (which reads them where they wait) reads the keys.
    batch = _batch_keys(session)
    for row in rows:
        insert_later(session, MatchKey, row, ignore_conflicts=True)
        if batch is not None:
            batch.added[row["key"]][(row["record_type"], row["record_id"])] = None
            batch.dropped.discard((row["key"], row["record_id"]))


def note_keys(session: Session, person: Person) -> None:
    """In a batch worked out ahead (read only): count ``person``'s keys as the batch's own,
    as ``add_lead`` will, without writing them."""
    batch = _batch_keys(session)
    if batch is not None and person.id is not None:
        for key in keys_of(person):
            batch.added[key][(person.record_type, person.id)] = None


def add_lead(session: Session, lead: Lead) -> None:
    """A new lead's keys, written with it."""
    _insert(session, _rows("lead", lead.id, keys_of(person_of(lead))))


def rekey_lead(session: Session, lead: Lead, changes: dict[str, Any]) -> None:
    """After ``changes`` (field → [old, new]) to ``lead``: drop the keys it no longer has,
    add the new ones."""
    changed = changes.keys() & KEY_FIELDS
    if not changed:
        return
    now = person_of(lead)
    before = replace(now, **{name: changes[name][0] for name in changed})
    old, new = keys_of(before), keys_of(now)
    if old - new:
        session.execute(delete(MatchKey).where(MatchKey.record_id == lead.id, MatchKey.key.in_(sorted(old - new))))
        _dropped(session, [(key, lead.id) for key in old - new])
    _insert(session, _rows("lead", lead.id, new - old))


def refresh(session: Session, record_type: str, record_ids: Iterable[uuid.UUID]) -> int:
    """Add the keys the records have now (contacts, whose keys the worker keeps; a merge's
    survivor). Keys they had before are dropped when a lookup meets them."""
    ids = list(record_ids)
    session.flush()
    rows = [row for person in people(session, record_type, ids) for row in _rows(record_type, person.id, keys_of(person))]  # type: ignore[arg-type]
    _insert(session, rows)
    return len(rows)


def contacts_at(session: Session, account_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(select(Contact.id).where(Contact.account_id == account_id)))


# -- reading people --


def _people_statement(record_type: str) -> Any:
    if record_type == "lead":
        return select(Lead.id, Lead.first_name, Lead.last_name, Lead.email, Lead.phone, Lead.company, Lead.domain)
    return (
        select(Contact.id, Contact.first_name, Contact.last_name, Contact.email, Contact.phone, Account.name, Account.domain)
        .outerjoin(Account, Account.id == Contact.account_id)
    )


_MODELS = {"lead": Lead, "contact": Contact}
# Built once (the worker reads a few people per lead it checks).
_PEOPLE = {
    record_type: _people_statement(record_type).where(model.id.in_(bindparam("ids", expanding=True)))
    for record_type, model in _MODELS.items()
}
# Up to this many ids, the read is a plain statement of that many parameters, compiled once
# for each count: through SQLAlchemy, the expanding list was most of each read's cost.
PLAIN_PEOPLE = 32


@lru_cache(maxsize=2 * PLAIN_PEOPLE)
def _people_of(record_type: str, count: int) -> PlainStatement:
    column = _MODELS[record_type].id
    ids = [bindparam(f"id_{n}", type_=column.type) for n in range(count)]
    return PlainStatement(_people_statement(record_type).where(column.in_(ids)))


def people(session: Session, record_type: str, ids: Iterable[uuid.UUID] | None = None) -> list[Person]:
    """Leads or contacts (those of ``ids``, or all) as duplicate detection sees them (a
    contact's company is its account), as the database holds them: changes the session has
    not flushed are not seen."""
    connection = session.connection()
    wanted = None if ids is None else list(ids)
    if wanted is None:
        rows: Iterable[Any] = connection.execute(_people_statement(record_type))
    elif not wanted:
        return []
    elif len(wanted) <= PLAIN_PEOPLE:
        rows = _people_of(record_type, len(wanted)).rows(connection, {f"id_{n}": value for n, value in enumerate(wanted)})
    else:
        rows = connection.execute(_PEOPLE[record_type], {"ids": wanted})
    return [Person(record_type, *row) for row in rows]


# -- finding who shares a key --


@dataclass
class Block:
    """The records found under some keys, by type, and the keys found that no longer fit."""

    ids: dict[str, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    hits: list[tuple[str, str, uuid.UUID]] = field(default_factory=list)


@lru_cache(maxsize=16)
def _lookup_statement(count: int) -> PlainStatement:
    """``count`` index ranges, one per key (bound as key_0, key_1 …), each read only up to
    ``MAX_BLOCK`` + 1 entries."""
    parts = [
        select(MatchKey.key, MatchKey.record_type, MatchKey.record_id)
        .where(MatchKey.key == bindparam(f"key_{n}")).limit(MAX_BLOCK + 1).subquery()
        for n in range(count)
    ]
    return PlainStatement(union_all(*(select(part) for part in parts)) if count > 1 else select(parts[0]))


# PostgreSQL: every key of a batch in one statement, still one index range of at most
# MAX_BLOCK + 1 entries per key; the keys go as one binary array.
_BATCH_LOOKUP = (
    "SELECT k.key, m.record_type, m.record_id FROM unnest(%b::varchar[]) AS k(key) CROSS JOIN LATERAL "
    f"(SELECT record_type, record_id FROM match_key WHERE match_key.key = k.key LIMIT {MAX_BLOCK + 1}) AS m"
)


@dataclass
class _BatchKeys:
    """In a worker's batch: the keys this transaction has written (waiting or not) and
    dropped, by key, and on PostgreSQL who shared the keys of its leads when it began."""

    added: dict[str, dict[tuple[str, uuid.UUID], None]] = field(default_factory=lambda: defaultdict(dict))
    dropped: set[tuple[str, uuid.UUID]] = field(default_factory=set)
    asked: set[str] = field(default_factory=set)
    found: dict[str, list[tuple[str, uuid.UUID]]] = field(default_factory=lambda: defaultdict(list))


def _batch_keys(session: Session) -> _BatchKeys | None:
    """The batch's keys, in the worker's optimistic batch (kept from its first statement
    on); None elsewhere, where a savepoint's rollback could take rows back unseen."""
    work = existing_unit_of_work(session)
    return work.state(_BatchKeys) if work is not None and work.optimistic else None


def _dropped(session: Session, pairs: Iterable[tuple[str, uuid.UUID]]) -> None:
    batch = _batch_keys(session)
    if batch is not None:
        batch.dropped.update(pairs)


def read_ahead(session: Session, persons: Iterable[Person]) -> None:
    """Before a worker batch checks its leads, on PostgreSQL: who shares the keys any of
    them will look up, in one statement instead of one per lead (a round trip each, a
    tenth of the worker's time per lead). Each lead's ``lookup`` then takes its part, with
    the keys the batch itself writes meanwhile. Like the statement per lead it replaces,
    it sees what other transactions had committed when it ran, a little earlier."""
    batch = _batch_keys(session)
    if batch is None or session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(set().union(*(lookups_of(person) for person in persons)))
    if not keys:
        return
    with driver_cursor(session.connection(), _BATCH_LOOKUP) as cursor:
        cursor.execute(_BATCH_LOOKUP, [keys])
        for key, record_type, record_id in cursor.fetchall():
            batch.found[key].append((record_type, record_id))
    batch.asked.update(keys)


def _stored(session: Session, keys: list[str], batch: _BatchKeys | None) -> dict[str, dict[tuple[str, uuid.UUID], None]]:
    """Who the database holds under ``keys``: read ahead for the batch, or now."""
    by_key: dict[str, dict[tuple[str, uuid.UUID], None]] = defaultdict(dict)
    if batch is not None and batch.asked.issuperset(keys):
        for key in keys:
            by_key[key].update(dict.fromkeys(batch.found.get(key, ())))
        return by_key
    rows = _lookup_statement(len(keys)).rows(session.connection(), {f"key_{n}": key for n, key in enumerate(keys)})
    for key, record_type, record_id in rows:
        by_key[key][(record_type, record_id)] = None
    return by_key


def _own(session: Session, keys: list[str], batch: _BatchKeys | None, by_key: dict[str, dict[tuple[str, uuid.UUID], None]]) -> None:
    """Add the keys this transaction wrote itself: in a worker batch from its record of
    them (written or still waiting; scanning the waiting rows for each lead made a batch's
    checks quadratic), elsewhere from the rows still waiting. Those are read where they
    wait: writing them first would write every row the batch's earlier records left
    waiting, once per record."""
    if batch is not None:
        for key in keys:
            by_key[key].update(batch.added.get(key, {}))
        for key, record_id in batch.dropped:
            for member in [m for m in by_key.get(key, {}) if m[1] == record_id]:
                del by_key[key][member]
        return
    work = existing_unit_of_work(session)
    if work is not None and work.deferred_inserts:
        asked = set(keys)
        for row in work.deferred_inserts.waiting(MatchKey.__table__):
            if row["key"] in asked:
                by_key[row["key"]][(row["record_type"], row["record_id"])] = None


def lookup(session: Session, keys: Iterable[str], *, exclude: uuid.UUID | None = None) -> Block:
    """Who shares one of ``keys``: one statement of one index range per key (or the batch's
    read ahead), however many records the database holds, and the keys this transaction
    has written (the keys of leads and contacts handled earlier in the same worker batch)."""
    keys = sorted(keys)
    found = Block()
    if not keys:
        return found
    batch = _batch_keys(session)
    by_key = _stored(session, keys, batch)
    _own(session, keys, batch, by_key)
    for key, members in by_key.items():
        if len(members) > MAX_BLOCK and not key.startswith(_EXACT):
            continue
        for record_type, record_id in members:
            if record_id != exclude:
                found.ids[record_type].add(record_id)
                found.hits.append((key, record_type, record_id))
    return found


def stale_keys(block: Block, current: dict[uuid.UUID, Person], asked: set[uuid.UUID]) -> list[tuple[str, uuid.UUID]]:
    """The keys in ``block`` of the records ``asked`` for that their record (as found, in
    ``current``) no longer has, or that no longer exist."""
    return [(key, record_id) for key, _type, record_id in block.hits
            if record_id in asked and (record_id not in current or key not in keys_of(current[record_id]))]


def prune(session: Session, block: Block, current: dict[uuid.UUID, Person], asked: set[uuid.UUID]) -> int:
    """Drop the ``stale_keys``."""
    stale = stale_keys(block, current, asked)
    if stale:
        session.execute(delete(MatchKey).where(tuple_(MatchKey.key, MatchKey.record_id).in_(stale)))
        _dropped(session, stale)
    return len(stale)


# -- filling in the keys of records stored before keys (the migration that made the table) --


def backfill(connection: Any, *, chunk: int = 20_000) -> int:
    """Store the keys of every lead and contact, reading them in chunks by id; returns how
    many keys. Written against plain tables, as a migration sees them."""
    import sqlalchemy as sa

    uuid_type = sa.Uuid()
    lead = sa.table("lead", sa.column("id", uuid_type), *(sa.column(c) for c in ("first_name", "last_name", "email", "phone", "company", "domain")))
    contact = sa.table("contact", sa.column("id", uuid_type), sa.column("account_id", uuid_type),
                       *(sa.column(c) for c in ("first_name", "last_name", "email", "phone")))
    account = sa.table("account", sa.column("id", uuid_type), sa.column("name"), sa.column("domain"))
    key = sa.table("match_key", sa.column("key"), sa.column("record_id", uuid_type), sa.column("record_type"))
    sources = {
        "lead": (lead.c.id, sa.select(lead.c.id, lead.c.first_name, lead.c.last_name, lead.c.email, lead.c.phone,
                                      lead.c.company, lead.c.domain)),
        "contact": (contact.c.id, sa.select(contact.c.id, contact.c.first_name, contact.c.last_name, contact.c.email,
                                            contact.c.phone, account.c.name, account.c.domain)
                    .select_from(contact.outerjoin(account, account.c.id == contact.c.account_id))),
    }
    written = 0
    for record_type, (id_column, stmt) in sources.items():
        last = None
        while True:
            page = stmt.order_by(id_column).limit(chunk)
            rows = connection.execute(page if last is None else page.where(id_column > last)).all()
            if not rows:
                break
            keys = [{"key": k, "record_id": row[0], "record_type": record_type}
                    for row in rows for k in keys_of(Person(record_type, *row))]
            if keys:
                connection.execute(key.insert(), keys)
            written += len(keys)
            last = rows[-1][0]
    return written
