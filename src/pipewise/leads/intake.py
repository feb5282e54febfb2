"""What follows a lead's write, in the worker right after commit: its blocking keys, the
fuzzy duplicate check, the score and, for a new lead that a person or an integration
created without an owner, routing.

The request that creates a lead writes it with its exact duplicates (same e-mail) and
answers; its blocking keys are written here, with the fuzzy check that reads them. The
rest does not change the answer, so it does not make the request wait. Each step looks
at the lead as it is when the worker reaches it, so running it twice changes nothing: a
lead already scored (a capture scores before it answers) is not scored again, one that
has an owner or a queue is not routed. Imported leads are scored and compared by their
import, and not routed.

The worker hands over its events in batches: ``load_leads`` reads the batch's leads and
what their scores are made of in a few statements for all of them, and ``on_lead`` then
writes each lead's results."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.db.base import among, utcnow
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events import bus
from pipewise.leads import dedup, match_keys, routing, scores
from pipewise.leads.match_keys import KEY_FIELDS
from pipewise.leads.models import Lead
from pipewise.scoring import service as scoring

# Fields whose change can move the fit score.
FIT_FIELDS = frozenset({"title", "company", "company_size", "industry", "country", "region", "domain", "account_id", "source", "custom"})
CLOSED_STATUSES = ("converted", "disqualified")
CONTACT_KEY_FIELDS = frozenset({"first_name", "last_name", "email", "phone", "account_id"})
ACCOUNT_KEY_FIELDS = frozenset({"name", "domain"})


@dataclass
class _Batch:
    """A worker batch's leads, loaded together (and held: the session keeps only the rows
    someone refers to), and what the scores of those to score are made of, read at ``now``."""

    leads: dict[uuid.UUID, Lead] = field(default_factory=dict)
    assessed: dict[uuid.UUID, scoring.Assessment] = field(default_factory=dict)
    now: datetime | None = None


def needs_routing(lead: Lead) -> bool:
    return lead.owner_id is None and lead.queue is None and lead.assigned_at is None and lead.status not in CLOSED_STATUSES


def _needs_score(lead: Lead, changed: set[str] | None, at: datetime | None) -> bool:
    """Created (``changed`` None) and not scored yet, or changed where the score is made
    and not scored since."""
    if changed is None:
        return lead.scored_at is None
    return bool(changed & FIT_FIELDS) and (lead.scored_at is None or at is None or lead.scored_at < at)


def after_create(session: Session, lead: Lead, *, route: bool = True) -> None:
    """Key, compare and score a lead that was just created and, with ``route``, route it.
    It is compared with every lead that has its keys already, older or newer: leads created
    together may reach several workers in any order, and whichever of a pair comes second
    finds the other (the pair is stored once)."""
    match_keys.add_lead(session, lead)
    dedup.check_lead(session, lead, foreseen=_foreseen(session, lead))
    if _needs_score(lead, None, None):
        _score(session, lead, cause="created")
    if route and needs_routing(lead):
        routing.assign(session, lead, cause="created", deferred=True)


def after_update(session: Session, lead: Lead, changed: set[str], *, at: datetime | None = None) -> None:
    """Compare and re-score a lead whose ``changed`` fields (changed at ``at``) call for it."""
    if changed & KEY_FIELDS:
        dedup.check_lead(session, lead, foreseen=_foreseen(session, lead))
    if _needs_score(lead, changed, at):
        _score(session, lead, cause="details changed")


def _score(session: Session, lead: Lead, *, cause: str) -> None:
    batch = unit_of_work(session).state(_Batch)
    if lead.id in batch.assessed:
        scores.score_leads(session, [lead.id], cause=cause, now=batch.now, assessed=batch.assessed)
    else:
        scores.score_leads(session, [lead.id], cause=cause)


# -- the subscribers --


def _changes(event: bus.Event) -> dict[str, Any]:
    return event.payload.get("changes") or {}


def _is_creation(event: bus.Event) -> bool:
    return event.payload.get("action") == "created"


def _wanted(event: bus.Event) -> bool:
    """Whether the event calls for work: a lead created other than by an import, or changed
    in a field its keys or its score are made of."""
    changes = _changes(event)
    if _is_creation(event):
        return "import" not in changes
    return bool(changes.keys() & (KEY_FIELDS | FIT_FIELDS))


def load_leads(session: Session, events: list[bus.Event]) -> None:
    """Before a batch: its leads in one statement, who shares the keys of those to compare
    in one more (on PostgreSQL), and what the scores of those that will be scored are made
    of in three more (instead of four per lead)."""
    wanted = [event for event in events if event.record_id is not None and _wanted(event)]
    if not wanted:
        return
    batch = unit_of_work(session).state(_Batch)
    hold_leads(session, [event.record_id for event in wanted])  # type: ignore[misc]
    # Lazily: read_ahead looks at them only on PostgreSQL.
    match_keys.read_ahead(session, (
        match_keys.person_of(lead) for event in wanted if (lead := batch.leads.get(event.record_id)) is not None  # type: ignore[arg-type]
        and (_is_creation(event) or _changes(event).keys() & KEY_FIELDS)
    ))
    to_score = {
        lead.id: lead for event in wanted if (lead := batch.leads.get(event.record_id)) is not None  # type: ignore[arg-type]
        and _to_score(lead, event)
    }
    if to_score:
        _assess(session, batch, to_score)


SUBSCRIBER = "leads.intake"


def _to_compare(event: bus.Event) -> bool:
    return _is_creation(event) or bool(_changes(event).keys() & KEY_FIELDS)


def _to_score(lead: Lead, event: bus.Event) -> bool:
    return _needs_score(lead, None if _is_creation(event) else set(_changes(event)), event.occurred_at)


@dataclass
class Foresight:
    """A batch's leads worked out ahead of its write transaction (``foresee``): each lead
    to compare, compared; and what the scores of those to score are made of, read at
    ``now``, with the version of the lead it was read from."""

    compared: dict[uuid.UUID, dedup.Foreseen] = field(default_factory=dict)
    assessed: dict[uuid.UUID, tuple[int, scoring.Assessment]] = field(default_factory=dict)
    now: datetime | None = None


def foresee(session: Session, events: list[bus.Event]) -> Foresight:
    """Ahead of a batch, in a read transaction: each lead to compare compared, as
    ``check_lead`` will in the batch, in the batch's order (a new lead's keys count for
    those after it, as they will once the batch has written them); and the scores of those
    to score assessed, as ``load_leads`` will."""
    ahead = Foresight()
    wanted = [event for event in events if event.record_id is not None and _wanted(event)]
    if not wanted:
        return ahead
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(among(session, Lead.id, {e.record_id for e in wanted})))}
    unit_of_work(session).optimistic = True  # the batch's own keys are noted, as in the batch (match_keys.lookup)
    for event in wanted:
        lead = leads.get(event.record_id)  # type: ignore[arg-type]
        if lead is None or lead.id in ahead.compared or not _to_compare(event):
            continue
        person = match_keys.person_of(lead)
        if _is_creation(event):
            match_keys.note_keys(session, person)
        if (found := dedup.foresee_matches(session, person)) is not None:
            ahead.compared[lead.id] = found
    to_score = {lead.id: lead for event in wanted if (lead := leads.get(event.record_id)) is not None and _to_score(lead, event)}  # type: ignore[arg-type]
    if to_score:
        ahead.now = utcnow()
        assessed = scoring.assess(session, list(to_score.values()), now=ahead.now)
        ahead.assessed = {lead_id: (to_score[lead_id].version, assessment) for lead_id, assessment in assessed.items()}
    return ahead


def _foreseen(session: Session, lead: Lead) -> dedup.Foreseen | None:
    ahead: Foresight | None = bus.foreseen_for(session, SUBSCRIBER)
    return None if ahead is None else ahead.compared.get(lead.id)


def _assess(session: Session, batch: _Batch, to_score: dict[uuid.UUID, Lead]) -> None:
    """What the scores of ``to_score`` are made of: as worked out ahead where the lead is
    still the version it was read from, else read now (and then the scores are of now: a
    lead changed since the look ahead is not scored as of before its change)."""
    ahead: Foresight | None = bus.foreseen_for(session, SUBSCRIBER)
    taken = {} if ahead is None else {
        lead_id: assessment for lead_id, (version, assessment) in ahead.assessed.items()
        if lead_id in to_score and to_score[lead_id].version == version
    }
    rest = [lead for lead_id, lead in to_score.items() if lead_id not in taken]
    batch.now = ahead.now if ahead is not None and ahead.now is not None and not rest else utcnow()
    batch.assessed = {**taken, **(scoring.assess(session, rest, now=batch.now) if rest else {})}


def hold_leads(session: Session, lead_ids: list[uuid.UUID]) -> None:
    """Load the leads of ``lead_ids`` not held yet in one statement, and hold them for the
    rest of the batch (``batch_lead``)."""
    held = unit_of_work(session).state(_Batch).leads
    missing = sorted(set(lead_ids) - held.keys())
    if missing:
        held.update((lead.id, lead) for lead in session.scalars(select(Lead).where(among(session, Lead.id, missing))))


def batch_lead(session: Session, lead_id: uuid.UUID) -> Lead | None:
    """A lead the batch holds, or else read now."""
    return unit_of_work(session).state(_Batch).leads.get(lead_id) or session.get(Lead, lead_id)


def on_lead(session: Session, event: bus.Event) -> None:
    """``lead.created`` and ``lead.updated``."""
    if not _wanted(event) or event.record_id is None:
        return
    lead = batch_lead(session, event.record_id)
    if lead is None:
        return
    if _is_creation(event):
        # Routed when a person or an integration created it; the system's own paths decide
        # for themselves (a capture routes before it answers).
        after_create(session, lead, route=event.actor_id is not None)
    else:
        after_update(session, lead, set(_changes(event)), at=event.occurred_at)


@dataclass
class _ContactKeys:
    refreshed: set[uuid.UUID] = field(default_factory=set)


def _contact_needs_keys(event: bus.Event) -> bool:
    return event.record_id is not None and bool(_is_creation(event) or _changes(event).keys() & CONTACT_KEY_FIELDS)


def refresh_contact_keys(session: Session, events: list[bus.Event]) -> None:
    """Before a batch: the keys of every contact whose event asks for them, from one read
    (one per event, each with a flush before it, was most of the worker's time per event)."""
    ids = sorted({event.record_id for event in events if _contact_needs_keys(event)})  # type: ignore[type-var]
    if ids:
        match_keys.refresh(session, "contact", ids)
        unit_of_work(session).state(_ContactKeys).refreshed.update(ids)


def on_contact(session: Session, event: bus.Event) -> None:
    """A contact's keys follow the contact (its company is its account's)."""
    if _contact_needs_keys(event) and event.record_id not in unit_of_work(session).state(_ContactKeys).refreshed:
        match_keys.refresh(session, "contact", [event.record_id])  # type: ignore[list-item]


def on_account(session: Session, event: bus.Event) -> None:
    """An account renamed (or its domain changed): its contacts get the keys that go with it."""
    if event.record_id is not None and _changes(event).keys() & ACCOUNT_KEY_FIELDS:
        match_keys.refresh(session, "contact", match_keys.contacts_at(session, event.record_id))
