"""Duplicate detection for people: exact e-mail first, then a fuzzy match of the person's
name together with their company (rapidfuzz), on every create and import, and over the
whole database (``scan``) for the review page and ``pipewise dedupe``."""

import itertools
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, Select, delete, or_, select, tuple_
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account, Contact
from pipewise.db.base import utcnow
from pipewise.leads.models import DuplicateCandidate, Lead
from pipewise.records.registry import spec_for
from pipewise.records.repository import RecordRepository

DEFAULT_THRESHOLD = 85.0
# The record types compared, and so the types a candidate pair can name.
PERSON_TYPES = ("lead", "contact")
# Names less alike than this are different people, whatever else they share but the e-mail.
NAME_CUTOFF = 75
_DIGITS = re.compile(r"\d+")
# A block bigger than this says little (a common surname); its pairs are not compared.
MAX_BLOCK = 60

_COMPANY_SUFFIXES = re.compile(
    r"\b(incorporated|inc|llc|l\.l\.c|ltd|limited|plc|corp|corporation|co|company|gmbh|ag|sa|sarl|bv|nv|oy|ab|"
    r"as|spa|srl|pty|pvt|kg|se|group|holdings?)\b\.?"
)


# Names and companies repeat across the records compared (a block, a scan, the leads near a
# new one), so their folded forms are remembered.
@lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """Lower case, accents removed, punctuation to spaces: the form names are compared in."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


@lru_cache(maxsize=65536)
def company_key(name: str | None) -> str:
    return re.sub(r"\s+", " ", _COMPANY_SUFFIXES.sub(" ", fold(name))).strip()


@dataclass(frozen=True)
class Person:
    """What duplicate detection looks at, for a lead or a contact."""

    record_type: str
    id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    domain: str | None = None

    @property
    def name(self) -> str:
        return fold(f"{self.first_name or ''} {self.last_name or ''}")


@dataclass(frozen=True)
class Match:
    record_type: str
    id: uuid.UUID
    score: float
    reason: str


def compare(a: Person, b: Person) -> tuple[float, str] | None:
    """How alike two people are (0–100) and why, or None when they clearly differ."""
    if a.email and a.email == b.email:
        return 100.0, "same e-mail address"
    name_score = fuzz.token_sort_ratio(a.name, b.name)
    if name_score < NAME_CUTOFF:
        return None
    # A first initial against a full first name ("J Smith" / "John Smith") is no contradiction.
    if a.last_name and b.last_name and fold(a.last_name) == fold(b.last_name):
        fa, fb = fold(a.first_name), fold(b.first_name)
        if fa and fb and (fa.startswith(fb) or fb.startswith(fa)):
            name_score = max(name_score, 95.0)
    if a.domain and a.domain == b.domain:
        company_score, company_why = 100.0, f"same company domain {a.domain}"
    else:
        ca, cb = company_key(a.company), company_key(b.company)
        company_score = fuzz.token_sort_ratio(ca, cb) if ca and cb else None
        if company_score is not None and _DIGITS.findall(ca) != _DIGITS.findall(cb):
            # "Studio 54" and "Studio 55" are two businesses, not one typed twice.
            company_score = min(company_score, 50.0)
        company_why = f"company {company_score:.0f}% alike" if company_score is not None else "no company to compare"
    if a.phone and a.phone == b.phone:
        return max(name_score, 90.0), f"same phone number, name {name_score:.0f}% alike"
    if company_score is None:
        # Without a company, only a near-identical name counts — and then only weakly.
        return (name_score * 0.9, f"name {name_score:.0f}% alike, {company_why}") if name_score >= 95 else None
    score = 0.6 * name_score + 0.4 * company_score
    return score, f"name {name_score:.0f}% alike, {company_why}"


@lru_cache(maxsize=65536)
def _numbers_in(company: str) -> tuple[str, ...]:
    return tuple(_DIGITS.findall(company))


def worth_comparing(person: Person, others: list[Person], threshold: float) -> list[Person]:
    """The ``others`` that ``compare`` could score at ``threshold`` or more, found with one
    vectorised pass over names and one over companies (a big block — a common surname —
    would otherwise be compared one pair at a time). The bound is generous, never tight:
    ``compare`` has the last word."""
    if not others:
        return []
    names = process.cdist([person.name], [o.name for o in others], scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF)[0]
    mine = company_key(person.company)
    theirs = [company_key(o.company) for o in others]
    companies = process.cdist([mine], theirs, scorer=fuzz.token_sort_ratio)[0] if mine else None
    kept = []
    for i, other in enumerate(others):
        if (person.email and person.email == other.email) or (person.phone and person.phone == other.phone):
            kept.append(other)
        elif names[i] < NAME_CUTOFF:
            continue
        elif companies is None or not theirs[i] or (person.domain and person.domain == other.domain):
            kept.append(other)
        else:
            company = min(companies[i], 50.0) if _numbers_in(mine) != _numbers_in(theirs[i]) else companies[i]
            # compare() may lift the name score to 95 (an initial against the full first name).
            if 0.6 * max(names[i], 95.0) + 0.4 * company >= threshold:
                kept.append(other)
    return kept


# -- one record against the database --


def _people(session: Session, record_type: str, clause, limit: int = 500) -> list[Person]:  # type: ignore[no-untyped-def]
    if record_type == "lead":
        rows = session.execute(
            select(Lead.id, Lead.first_name, Lead.last_name, Lead.email, Lead.phone, Lead.company, Lead.domain)
            .where(clause(Lead))
            .limit(limit)
        )
        return [Person("lead", *row) for row in rows]
    rows = session.execute(
        select(Contact.id, Contact.first_name, Contact.last_name, Contact.email, Contact.phone, Account.name, Account.domain)
        .outerjoin(Account, Account.id == Contact.account_id)
        .where(clause(Contact))
        .limit(limit)
    )
    return [Person("contact", *row) for row in rows]


def find_matches(session: Session, person: Person, *, threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """Leads and contacts that may be ``person``: same e-mail, or a similar name at a similar
    company. Best first."""

    def nearby(model):  # type: ignore[no-untyped-def]
        conditions = []
        if person.email:
            conditions.append(model.email == person.email)
        if person.last_name:
            conditions.append(model.last_name == person.last_name)
        if person.phone:
            conditions.append(model.phone == person.phone)
        if person.domain and model is Lead:
            conditions.append(model.domain == person.domain)
        clause = or_(*conditions) if conditions else model.id.is_(None)
        return clause if person.id is None else clause & (model.id != person.id)

    found: list[Match] = []
    for record_type in PERSON_TYPES:
        for other in worth_comparing(person, _people(session, record_type, nearby), threshold):
            result = compare(person, other)
            if result is not None and result[0] >= threshold:
                found.append(Match(record_type, other.id, round(result[0], 1), result[1]))  # type: ignore[arg-type]
    found.sort(key=lambda m: -m.score)
    return found


def remember(session: Session, record_type: str, record_id: uuid.UUID, matches: Iterable[Match]) -> int:
    """Store matches as open candidates on the record (once per pair)."""
    matches = [m for m in matches if not (m.record_type == record_type and m.id == record_id)]
    if not matches:
        return 0
    known = set(
        session.execute(
            select(DuplicateCandidate.candidate_type, DuplicateCandidate.candidate_id).where(
                DuplicateCandidate.record_type == record_type, DuplicateCandidate.record_id == record_id
            )
        ).all()
    )
    added = 0
    for m in matches:
        if (m.record_type, m.id) in known:
            continue
        session.add(
            DuplicateCandidate(
                record_type=record_type,
                record_id=record_id,
                candidate_type=m.record_type,
                candidate_id=m.id,
                score=m.score,
                reason=m.reason[:300],
                detected_at=utcnow(),
            )
        )
        added += 1
    return added


def check_lead(session: Session, lead: Lead, *, threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    person = Person("lead", lead.id, lead.first_name, lead.last_name, lead.email, lead.phone, lead.company, lead.domain)
    matches = find_matches(session, person, threshold=threshold)
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
    """Cheap keys that true duplicates usually share; only records sharing one are compared."""
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


def pairs(people: list[Person], *, threshold: float = DEFAULT_THRESHOLD) -> list[tuple[Person, Person, float, str]]:
    """Every pair of ``people`` that looks like the same person, best first."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, person in enumerate(people):
        for key in blocking_keys(person):
            blocks[key].append(index)
    seen: set[tuple[int, int]] = set()
    found = []
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for i, j in itertools.combinations(members, 2):
            if (i, j) in seen:
                continue
            seen.add((i, j))
            result = compare(people[i], people[j])
            if result is not None and result[0] >= threshold:
                found.append((people[i], people[j], round(result[0], 1), result[1]))
    found.sort(key=lambda f: -f[2])
    return found


def load_people(session: Session, record_type: str) -> list[Person]:
    return _people(session, record_type, lambda model: model.id.is_not(None), limit=10_000_000)


def scan(session: Session, *, record_types: tuple[str, ...] = PERSON_TYPES, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Look for duplicates among all leads and contacts; store new pairs as open candidates."""
    people = [p for record_type in record_types for p in load_people(session, record_type)]
    found = pairs(people, threshold=threshold)
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
