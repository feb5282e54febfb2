"""Duplicate detection for people: the exact e-mail, then a fuzzy match of the person's
name together with their company (``similarity``), and over the whole database (``scan``)
for the review page and ``pipewise dedupe``.

A lead is checked for the exact e-mail in the transaction that writes it (two index
lookups), and compared fuzzily right after commit by the worker (``intake``): with the few
leads and contacts that share one of its blocking keys (``match_keys``), whatever the size
of the database."""

import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, literal_column, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account, Contact
from pipewise.db.base import utcnow
from pipewise.db.plain_statement import PlainStatement
from pipewise.db.session import insert_ignoring, read
from pipewise.db.unit_of_work import unit_of_work
from pipewise.leads import match_keys
from pipewise.leads.match_keys import MAX_BLOCK, people
from pipewise.leads.models import DuplicateCandidate, Lead
from pipewise.leads.similarity import DEFAULT_THRESHOLD, Match, Person, company_key, compare, fold, worth_comparing
from pipewise.records.registry import spec_for
from pipewise.records.repository import RecordRepository

PROGRESS_EVERY = 500  # groups of alike records between two progress reports

__all__ = ["DEFAULT_THRESHOLD", "Match", "Person", "compare", "fold", "worth_comparing"]

# The record types compared, and so the types a candidate pair can name.
PERSON_TYPES = ("lead", "contact")
SAME_EMAIL = "same e-mail address"


# -- one record against the database --


@dataclass
class Foreseen:
    """A lead compared ahead of the worker's write transaction (``foresee_matches``): who
    it was, the records it was compared with (``asked``) and the matches found. Valid in
    the transaction while the lead is still that person."""

    person: Person
    asked: set[uuid.UUID] = field(default_factory=set)
    found: list[Match] = field(default_factory=list)


def find_matches(
    session: Session, person: Person, *, threshold: float = DEFAULT_THRESHOLD, foreseen: Foreseen | None = None
) -> list[Match]:
    """Leads and contacts that may be ``person``: same e-mail, or a similar name at a similar
    company, among those that share a blocking key with it. Best first. With ``foreseen``
    (``person`` compared ahead), only the records that joined its block since are read and
    compared, and only their keys pruned."""
    block = match_keys.lookup(session, match_keys.lookups_of(person), exclude=person.id)
    seen = Foreseen(person) if foreseen is None else Foreseen(person, set(foreseen.asked), list(foreseen.found))
    asked_before = set(seen.asked)
    current = _compare_block(session, person, block, seen, threshold)
    match_keys.prune(session, block, current, seen.asked - asked_before)
    return sorted(seen.found, key=lambda m: -m.score)


def foresee_matches(session: Session, person: Person, *, threshold: float = DEFAULT_THRESHOLD) -> Foreseen | None:
    """``find_matches`` without writing: in a read transaction, before the write turn. None
    when the block holds keys to prune, which the comparison in the write transaction does."""
    block = match_keys.lookup(session, match_keys.lookups_of(person), exclude=person.id)
    seen = Foreseen(person)
    current = _compare_block(session, person, block, seen, threshold)
    return None if match_keys.stale_keys(block, current, seen.asked) else seen


def _compare_block(session: Session, person: Person, block: match_keys.Block, seen: Foreseen, threshold: float) -> dict[uuid.UUID, Person]:
    """Compare ``person`` with the records of ``block`` not in ``seen.asked`` yet, adding
    them there and the matches to ``seen.found``; the records as read, by id."""
    current: dict[uuid.UUID, Person] = {}
    for record_type in PERSON_TYPES:
        ids = sorted(block.ids.get(record_type, set()) - seen.asked)
        seen.asked.update(ids)
        others = people(session, record_type, ids) if ids else []
        current.update((other.id, other) for other in others)  # type: ignore[misc]
        for other in worth_comparing(person, others, threshold):
            result = compare(person, other)
            if result is not None and result[0] >= threshold:
                seen.found.append(Match(record_type, other.id, round(result[0], 1), result[1]))  # type: ignore[arg-type]
    return current


def _same_email_selects() -> list[Any]:
    email = bindparam("email")
    leads = select(literal_column("'lead'").label("record_type"), Lead.id).where(Lead.email == email).limit(MAX_BLOCK + 1)
    contacts = select(literal_column("'contact'").label("record_type"), Contact.id).where(Contact.email == email).limit(MAX_BLOCK)
    return [select(leads.subquery()), select(contacts.subquery())]


def _account_of_domain_select() -> Any:
    # The oldest account with the domain, as account_service.by_domain finds it.
    account = select(literal_column("'account'").label("record_type"), Account.id)
    return select(account.where(Account.domain == bindparam("domain")).order_by(Account.created_at).limit(1).subquery())


# Built once: a statement's construction costs more than running it on the indexes.
_SAME_EMAIL = PlainStatement(union_all(*_same_email_selects()))
_ACCOUNT_AND_SAME_EMAIL = PlainStatement(union_all(_account_of_domain_select(), *_same_email_selects()))


@dataclass
class _ReadAhead:
    """The same-address records of the lead being created, read with its account."""

    same_email: dict[str, list[tuple[str, uuid.UUID]]] = field(default_factory=dict)


def account_and_same_email(session: Session, *, domain: str | None, email: str | None) -> uuid.UUID | None:
    """For a lead about to be created: the account of ``domain`` (None: not asked) and, in
    the same statement (one round trip to the database instead of two), the leads and
    contacts with ``email``, kept for this lead's ``check_new_lead``."""
    ahead = unit_of_work(session).state(_ReadAhead)
    ahead.same_email.clear()  # what an earlier lead of the transaction left unused is not this one's
    rows = read(session, _ACCOUNT_AND_SAME_EMAIL, {"domain": domain, "email": email})
    if email:
        ahead.same_email[email] = [(record_type, record_id) for record_type, record_id in rows if record_type != "account"]
    return next((record_id for record_type, record_id in rows if record_type == "account"), None)


def same_email(session: Session, lead: Lead) -> list[Match]:
    """The leads and contacts with ``lead``'s e-mail address (its exact duplicates), read
    from their indexed e-mail columns in one statement, or taken from the read made with
    its account (rows the session has not flushed yet are left to the check after commit,
    which finds them by their keys)."""
    if not lead.email:
        return []
    rows = unit_of_work(session).state(_ReadAhead).same_email.pop(lead.email, None)
    if rows is None:
        rows = read(session, _SAME_EMAIL, {"email": lead.email})
    return [Match(record_type, record_id, 100.0, SAME_EMAIL) for record_type, record_id in rows if record_id != lead.id]


def _known_pairs_statement() -> Any:
    dc, record_type, record_id = DuplicateCandidate, bindparam("record_type"), bindparam("record_id")
    as_record = select(dc.candidate_type, dc.candidate_id).where(dc.record_type == record_type, dc.record_id == record_id)
    as_candidate = select(dc.record_type, dc.record_id).where(dc.candidate_type == record_type, dc.candidate_id == record_id)
    return union_all(as_record, as_candidate)


# On the driver's cursor, as the pairs' insert below: the worker reads and writes a lead's
# pairs once per lead, and through SQLAlchemy's execute each took about 0.1 ms.
_KNOWN_PAIRS = PlainStatement(_known_pairs_statement())
_PAIR_COLUMNS = ("record_type", "record_id", "candidate_type", "candidate_id", "score", "reason", "status", "detected_at")


def known_pairs(session: Session, record_type: str, record_id: uuid.UUID) -> set[tuple[str, uuid.UUID]]:
    """The records already paired with this one, on either side of the pair."""
    return {(t, i) for t, i in read(session, _KNOWN_PAIRS, {"record_type": record_type, "record_id": record_id})}


def remember(
    session: Session, record_type: str, record_id: uuid.UUID, matches: Iterable[Match], *, new: bool = False
) -> int:
    """Store matches as open candidates on the record, once per pair whichever side it was
    found from (``new``: the record was written in this transaction and has no pairs yet).
    Written straight away on the session's connection: the worker remembers the pairs of a
    whole batch of leads without flushing anything else between them."""
    matches = [m for m in matches if not (m.record_type == record_type and m.id == record_id)]
    if not matches:
        return 0
    known = set() if new else known_pairs(session, record_type, record_id)
    now = utcnow()
    rows = []
    for m in matches:
        if (m.record_type, m.id) in known:
            continue
        known.add((m.record_type, m.id))
        rows.append({"record_type": record_type, "record_id": record_id, "candidate_type": m.record_type,
                     "candidate_id": m.id, "score": m.score, "reason": m.reason[:300], "status": "open", "detected_at": now})
    insert = insert_ignoring(session, DuplicateCandidate, columns=_PAIR_COLUMNS, returning="id", plain=True)
    for row in rows:
        read(session, insert, row)
    return len(rows)


def check_new_lead(session: Session, lead: Lead) -> list[Match]:
    """In the transaction that creates ``lead``: store its exact duplicates (same e-mail).
    Its blocking keys and the fuzzy comparison follow after commit (``check_lead``)."""
    matches = same_email(session, lead)
    remember(session, "lead", lead.id, matches, new=True)
    return matches


def check_lead(
    session: Session, lead: Lead, *, threshold: float = DEFAULT_THRESHOLD, foreseen: Foreseen | None = None
) -> list[Match]:
    """Compare ``lead`` with the leads and contacts that share a blocking key with it and
    store the likely duplicates as candidates (a pair once, whichever side found it).
    ``foreseen``: its comparison made ahead, taken if the lead is still who it was then."""
    person = match_keys.person_of(lead)
    matches = find_matches(session, person, threshold=threshold,
                           foreseen=foreseen if foreseen is not None and foreseen.person == person else None)
    remember(session, "lead", lead.id, matches)
    return matches


# -- the review list: one query, one visibility rule --


def _visible_side(session: Session, actor: Actor, type_column: Any, id_column: Any) -> ColumnElement[bool]:
    """This side of a pair names a record ``actor`` can see (any existing one for admins)."""
    sides = []
    for record_type in PERSON_TYPES:
        repository = RecordRepository.from_session(session, spec_for(record_type))
        visible_ids = repository.visible(select(repository.model.id), actor)
        sides.append((type_column == record_type) & id_column.in_(visible_ids))
    return or_(*sides)


def _reviewable(session: Session, actor: Actor) -> Select[tuple[DuplicateCandidate]]:
    """Pairs ``actor`` may see: both of their records visible to them. The API, the web
    page and the CLI all list pairs through this rule."""
    dc = DuplicateCandidate
    return select(dc).where(
        _visible_side(session, actor, dc.record_type, dc.record_id),
        _visible_side(session, actor, dc.candidate_type, dc.candidate_id),
    )


def review_list(
    session: Session,
    actor: Actor,
    *,
    status: str = "open",
    involving: tuple[str, uuid.UUID] | None = None,
    limit: int | None = 100,
) -> list[DuplicateCandidate]:
    """Duplicate pairs in ``status`` that ``actor`` may review, best first; ``involving``
    keeps those with one record, given as (record type, id); ``limit`` None lists all."""
    dc = DuplicateCandidate
    stmt = _reviewable(session, actor).where(dc.status == status)
    if involving is not None:
        record_type, record_id = involving
        stmt = stmt.where(
            or_(
                (dc.record_type == record_type) & (dc.record_id == record_id),
                (dc.candidate_type == record_type) & (dc.candidate_id == record_id),
            )
        )
    return list(session.scalars(stmt.order_by(dc.score.desc(), dc.id).limit(limit)))


def reviewable_pair(session: Session, actor: Actor, pair_id: int) -> DuplicateCandidate | None:
    """One pair, if ``actor`` may see it (by the same rule as ``review_list``)."""
    return session.scalar(_reviewable(session, actor).where(DuplicateCandidate.id == pair_id))


def dismiss(session: Session, actor: Actor, pair_id: int) -> DuplicateCandidate | None:
    """Mark a pair the actor may review as "not a duplicate"; None when there is none."""
    pair = reviewable_pair(session, actor, pair_id)
    if pair is not None:
        pair.status = "dismissed"
    return pair


# -- the whole database --


def blocking_keys(p: Person) -> Iterator[str]:
    """Cheap keys that true duplicates usually share; only records sharing one are compared.
    Looser than the stored ``match_keys`` (fragments of names): a scan holds every record in
    memory and can afford bigger blocks."""
    if p.email:
        yield "e:" + p.email
    if p.phone:
        yield "p:" + p.phone
    first, last = fold(p.first_name), fold(p.last_name)
    if last:
        yield f"l:{last[:4]}:{first[:1]}"
        yield f"s:{last[-3:]}:{first[:1]}"
    if first:
        yield f"f:{first[:3]}:{last[:1]}"
    if p.domain:
        yield f"d:{p.domain}:{last[:1]}"
    company = company_key(p.company)
    if company:
        yield f"c:{company[:8]}"


def pairs(everyone: list[Person], *, threshold: float = DEFAULT_THRESHOLD,
          progress: Callable[[int, int], None] | None = None) -> list[tuple[Person, Person, float, str]]:
    """Every pair of ``everyone`` that looks like the same person, best first. ``progress``
    hears (groups compared, groups in all) as the comparing goes."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, person in enumerate(everyone):
        for key in blocking_keys(person):
            blocks[key].append(index)
    seen: set[tuple[int, int]] = set()
    found = []
    for done, members in enumerate(blocks.values()):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, len(blocks))
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for i, j in itertools.combinations(members, 2):
            if (i, j) in seen:
                continue
            seen.add((i, j))
            result = compare(everyone[i], everyone[j])
            if result is not None and result[0] >= threshold:
                found.append((everyone[i], everyone[j], round(result[0], 1), result[1]))
    found.sort(key=lambda f: -f[2])
    return found


def load_people(session: Session, record_type: str) -> list[Person]:
    return people(session, record_type)


def scan(session: Session, *, record_types: tuple[str, ...] = PERSON_TYPES, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Look for duplicates among all leads and contacts; store new pairs as open candidates."""
    return store_pairs(session, find_pairs(session, record_types=record_types, threshold=threshold))


def find_pairs(session: Session, *, record_types: tuple[str, ...] = PERSON_TYPES, threshold: float = DEFAULT_THRESHOLD,
               progress: Callable[[int, int], None] | None = None) -> list[tuple[Person, Person, float, str]]:
    """The pairs a scan finds, read only (a long scan may read in one transaction and store in another)."""
    session.flush()
    everyone = [p for record_type in record_types for p in load_people(session, record_type)]
    return pairs(everyone, threshold=threshold, progress=progress)


def store_pairs(session: Session, found: list[tuple[Person, Person, float, str]]) -> int:
    """Store the pairs not yet known as open candidates; how many were new."""
    existing = set(
        session.execute(
            select(
                DuplicateCandidate.record_type,
                DuplicateCandidate.record_id,
                DuplicateCandidate.candidate_type,
                DuplicateCandidate.candidate_id,
            )
        ).all()
    )
    added = 0
    for a, b, score, reason in found:
        # A contact is the better-known record: leads point at contacts, not the reverse.
        if a.record_type == "contact" and b.record_type == "lead":
            a, b = b, a
        key, mirrored = (a.record_type, a.id, b.record_type, b.id), (b.record_type, b.id, a.record_type, a.id)
        if key in existing or mirrored in existing:
            continue
        existing.add(key)
        session.add(
            DuplicateCandidate(
                record_type=a.record_type,
                record_id=a.id,
                candidate_type=b.record_type,
                candidate_id=b.id,
                score=score,
                reason=reason,
                detected_at=utcnow(),
            )
        )
        added += 1
    return added


def forget(session: Session, record_type: str, record_ids: list[uuid.UUID]) -> None:
    """Drop candidate rows that point at records that no longer exist."""
    if not record_ids:
        return
    session.execute(
        delete(DuplicateCandidate).where(
            or_(
                tuple_(DuplicateCandidate.record_type, DuplicateCandidate.record_id).in_([(record_type, i) for i in record_ids]),
                tuple_(DuplicateCandidate.candidate_type, DuplicateCandidate.candidate_id).in_(
                    [(record_type, i) for i in record_ids]
                ),
            )
        )
    )
