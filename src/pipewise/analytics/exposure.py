"""Who an automation reached and when: one ``Exposure`` per enrollment of a sequence or a
workflow that started in the range, with its automated touches, and the deals, meetings
and interactions around the people and accounts it touched."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, String, and_, any_, exists, func, literal, null, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from pipewise.analytics import sql
from pipewise.analytics.filters import ReportFilter, in_range, owner_conditions
from pipewise.auth.visibility import Actor
from pipewise.automation.acting import workflow_clause
from pipewise.automation.models import Decision, Workflow
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.crm.models import Account, Activity, Contact
from pipewise.deals.models import Deal, DealContact, DealStageChange, Stage
from pipewise.leads.models import Lead
from pipewise.mail.models import EmailMessage
from pipewise.records.models import RecordHistory
from pipewise.runs import timers
from pipewise.sequences.metrics import CHUNK, Touch
from pipewise.sequences.models import Enrollment as SequenceEnrollment
from pipewise.sequences.models import Sequence, SequenceStep, StepVariant

OWNED = {"contact": Contact, "lead": Lead, "account": Account, "deal": Deal}


@dataclass
class Exposure:
    automation: str  # "Sequence: name" / "Workflow: name"
    kind: str  # sequence | workflow
    enrolled_at: datetime
    record_type: str
    record_id: uuid.UUID
    contact_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    touches: list[Touch] = field(default_factory=list)
    # What each touch did: key -> {"sent", "opened", "replied"} flags and labels.
    mail: list[dict[str, Any]] = field(default_factory=list)


def among(session: Session, column: Any, values: list[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``= ANY`` of one array: the driver parses a
    statement with hundreds of placeholders afresh each time, which cost more than the query."""
    if sql.is_postgres(session):
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


def chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


# -- sequences -------------------------------------------------------------------------------


def sequence_exposures(session: Session, flt: ReportFilter, actor: Actor) -> list[Exposure]:
    """Enrollments of contacts ``actor`` may see (within the team / owner filter) that
    started in the range, with every e-mail their sequence sent them."""
    stmt = (
        select(SequenceEnrollment.id, Sequence.name, SequenceEnrollment.contact_id,
               func.coalesce(SequenceEnrollment.account_id, Contact.account_id), SequenceEnrollment.enrolled_at)
        .join(Sequence, Sequence.id == SequenceEnrollment.sequence_id)
        .join(Contact, Contact.id == SequenceEnrollment.contact_id)
        .where(*owner_conditions(Contact.owner_id, flt, actor), *in_range(SequenceEnrollment.enrolled_at, flt))
    )
    exposures = {
        enrollment_id: Exposure(f"Sequence: {name}", "sequence", enrolled_at, "contact", contact_id,
                                contact_id=contact_id, account_id=account_id)
        for enrollment_id, name, contact_id, account_id, enrolled_at in session.execute(stmt)
    }
    steps = {s.id: s for s in session.scalars(select(SequenceStep))} if exposures else {}
    labels = dict(session.execute(select(StepVariant.id, StepVariant.label)).all()) if exposures else {}
    for ids in chunks(list(exposures)):
        mails = select(EmailMessage.enrollment_id, EmailMessage.step_id, EmailMessage.variant_id, EmailMessage.sent_at,
                       EmailMessage.opened_at, EmailMessage.replied_at).where(
            among(session, EmailMessage.enrollment_id, ids), EmailMessage.direction == "outbound", EmailMessage.status == "sent",
            EmailMessage.sent_at.is_not(None))
        for enrollment_id, step_id, variant_id, sent_at, opened_at, replied_at in session.execute(mails):
            exposure = exposures[enrollment_id]
            step = steps.get(step_id)
            key = (exposure.automation, f"{step.position}. {step.kind.replace('_', ' ')}" if step else "(removed step)",
                   labels.get(variant_id, "—"))
            exposure.touches.append(Touch(key, exposure.contact_id, exposure.account_id, sent_at))
            exposure.mail.append({"key": key, "at": sent_at, "opened": opened_at is not None, "replied": replied_at is not None})
    return list(exposures.values())


# -- workflows -------------------------------------------------------------------------------


def _records_clause(flt: ReportFilter, actor: Actor) -> Any:
    """Enrollments of records ``actor`` may see: checked per enrollment (a list of every
    visible record would be read whole even when no workflow ran)."""
    parts = []
    for name, model in OWNED.items():
        visible = exists().where(model.id == WorkflowEnrollment.record_id, *owner_conditions(model.owner_id, flt, actor))
        parts.append((WorkflowEnrollment.record_type == name) & visible)
    return or_(*parts)


def workflow_exposures(session: Session, flt: ReportFilter, actor: Actor) -> list[Exposure]:
    """Enrollments (not test runs) of workflows ``actor`` may see, of records ``actor``
    may see, that started in the range, with every action step the workflow took."""
    visible = workflow_clause(actor)
    stmt = (
        select(WorkflowEnrollment.id, WorkflowEnrollment.version_id, Workflow.name, WorkflowEnrollment.record_type,
               WorkflowEnrollment.record_id, WorkflowEnrollment.enrolled_at)
        .join(Workflow, Workflow.id == WorkflowEnrollment.workflow_id)
        .where(WorkflowEnrollment.test_mode.is_(False), _records_clause(flt, actor), *in_range(WorkflowEnrollment.enrolled_at, flt),
               *([visible] if visible is not None else []))
    )
    exposures: dict[uuid.UUID, Exposure] = {}
    versions: dict[uuid.UUID, uuid.UUID] = {}
    for enrollment_id, version_id, name, record_type, record_id, enrolled_at in session.execute(stmt):
        exposures[enrollment_id] = Exposure(f"Workflow: {name}", "workflow", enrolled_at, record_type, record_id)
        versions[enrollment_id] = version_id
    _link_records(session, list(exposures.values()))
    acted: list[tuple[uuid.UUID, str, int, datetime]] = []
    for ids in chunks(list(exposures)):
        acted += session.execute(select(Decision.enrollment_id, Decision.step_id, Decision.version_number, Decision.at).where(
            among(session, Decision.enrollment_id, ids), Decision.kind == "acted", Decision.test_mode.is_(False))).all()
    keys = {timers.timer_key("wf", versions[e].hex, e.hex, step): (e, step) for e, step, _v, _at in acted}
    sent: dict[tuple[uuid.UUID, str], tuple[bool, bool]] = {}
    for chunk in chunks(sorted(keys)):
        for key, opened_at, replied_at in session.execute(select(EmailMessage.send_key, EmailMessage.opened_at, EmailMessage.replied_at)
                                                          .where(among(session, EmailMessage.send_key, chunk), EmailMessage.status == "sent")):
            sent[keys[key]] = (opened_at is not None, replied_at is not None)
    for enrollment_id, step_id, version_number, at in acted:
        exposure = exposures[enrollment_id]
        key = (exposure.automation, step_id or "—", f"version {version_number}")
        exposure.touches.append(Touch(key, exposure.contact_id, exposure.account_id, at))
        if (enrollment_id, step_id) in sent:
            opened, replied = sent[(enrollment_id, step_id)]
            exposure.mail.append({"key": key, "at": at, "opened": opened, "replied": replied})
        else:
            exposure.mail.append({"key": key, "at": at, "acted_only": True})
    return list(exposures.values())


def _link_records(session: Session, exposures: list[Exposure]) -> None:
    """The contact, lead, account and deal behind each workflow enrollment's record."""
    by_type: dict[str, list[Exposure]] = defaultdict(list)
    for exposure in exposures:
        by_type[exposure.record_type].append(exposure)
    columns = {
        "contact": (Contact.id, Contact.account_id, None),
        "lead": (Lead.id, Lead.account_id, Lead.converted_deal_id),
        "deal": (Deal.id, Deal.account_id, Deal.id),
        "account": (Account.id, Account.id, None),
    }
    for record_type, items in by_type.items():
        if record_type not in columns:
            continue
        id_column, account_column, deal_column = columns[record_type]
        linked = select(id_column.label("record_id"), account_column.label("account_id"),
                        (deal_column if deal_column is not None else null()).label("deal_id"))
        found: dict[uuid.UUID, tuple[Any, Any]] = {}
        for ids in chunks([e.record_id for e in items]):
            found.update({i: (a, d) for i, a, d in session.execute(linked.where(among(session, id_column, ids)))})
        for exposure in items:
            account_id, deal_id = found.get(exposure.record_id, (None, None))
            exposure.account_id, exposure.deal_id = account_id, deal_id
            if record_type == "contact":
                exposure.contact_id = exposure.record_id
            elif record_type == "lead":
                exposure.lead_id = exposure.record_id


# -- what happened around them ---------------------------------------------------------------


@dataclass(frozen=True)
class DealFacts:
    id: uuid.UUID
    account_id: uuid.UUID | None
    contact_ids: frozenset[uuid.UUID]
    created_at: datetime
    closed_at: datetime | None
    kind: str  # open | won | lost
    amount: Any
    advances: tuple[datetime, ...]  # stage changes to a later stage or to won


def deals_around(session: Session, exposures: list[Exposure], deal_visible: list[Any]) -> list[DealFacts]:
    """Every deal (the reader may see) at a touched account, with a touched contact, or
    that a workflow enrolled, with its stage advances."""
    accounts = sorted({e.account_id for e in exposures if e.account_id}, key=str)
    contacts = sorted({e.contact_id for e in exposures if e.contact_id}, key=str)
    deal_ids = sorted({e.deal_id for e in exposures if e.deal_id}, key=str)
    rows: dict[uuid.UUID, tuple[Any, ...]] = {}
    wheres = [*(among(session, Deal.account_id, c) for c in chunks(accounts)), *(among(session, Deal.id, c) for c in chunks(deal_ids)),
              *(Deal.id.in_(select(DealContact.deal_id).where(among(session, DealContact.contact_id, c))) for c in chunks(contacts))]
    for where in wheres:
        stmt = (select(Deal.id, Deal.account_id, Deal.created_at, Deal.closed_at, Stage.kind, Deal.amount)
                .join(Stage, Stage.id == Deal.stage_id).where(where, *deal_visible))
        rows.update({r[0]: tuple(r) for r in session.execute(stmt)})
    links: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    advances: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    # The deal ids come back raw and are looked up: parsing one per stage change took most of the time.
    by_raw = sql.by_every_form(rows)
    change, before, after = DealStageChange, aliased(Stage), aliased(Stage)
    for ids in chunks(sorted(rows, key=str)):
        contacts_of = select(type_coerce(DealContact.deal_id, String), DealContact.contact_id).where(among(session, DealContact.deal_id, ids))
        for raw, contact_id in session.execute(contacts_of):
            links[by_raw[raw]].add(contact_id)
        moves = (select(type_coerce(change.deal_id, String), change.at).join(before, before.id == change.from_stage_id)
                 .join(after, after.id == change.to_stage_id).where(among(session, change.deal_id, ids), forward(before, after)))
        for raw, at in session.execute(moves):
            advances[by_raw[raw]].append(at)
    return [DealFacts(i, r[1], frozenset(links[i]), r[2], r[3], r[4], r[5], tuple(sorted(advances[i]))) for i, r in rows.items()]


def forward(before: Any, after: Any) -> Any:
    """A move from stage ``before`` to a later open stage, or to won: an advance."""
    return and_(after.kind != "lost", or_(after.kind == "won", after.position > before.position))


def interactions(session: Session, exposures: list[Exposure]) -> dict[tuple[str, uuid.UUID], list[datetime]]:
    """(link, id) -> when a person had a meaningful sales interaction with the record: a
    call or meeting logged by a person, or an e-mail the contact sent in."""
    since = min((e.enrolled_at for e in exposures), default=None)
    found: dict[tuple[str, uuid.UUID], list[datetime]] = defaultdict(list)
    if since is None:
        return found
    for link, column in (("contact", Activity.contact_id), ("lead", Activity.lead_id), ("deal", Activity.deal_id), ("account", Activity.account_id)):
        ids = sorted({getattr(e, f"{link}_id") for e in exposures if getattr(e, f"{link}_id")}, key=str)
        for chunk in chunks(ids):
            stmt = select(column, Activity.occurred_at).where(among(session, column, chunk), Activity.type.in_(("call", "meeting")),
                                                              Activity.automated.is_(False), Activity.occurred_at >= since)
            for record_id, at in session.execute(stmt):
                found[(link, record_id)].append(at)
    contacts = sorted({e.contact_id for e in exposures if e.contact_id}, key=str)
    for chunk in chunks(contacts):
        stmt = select(EmailMessage.contact_id, EmailMessage.created_at).where(
            among(session, EmailMessage.contact_id, chunk), EmailMessage.direction == "inbound", EmailMessage.kind == "reply",
            EmailMessage.created_at >= since)
        for contact_id, at in session.execute(stmt):
            found[("contact", contact_id)].append(at)
    return found


def meetings_of(session: Session, exposures: list[Exposure]) -> dict[uuid.UUID, list[datetime]]:
    """contact id -> when meetings with the contact were logged."""
    found: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    contacts = sorted({e.contact_id for e in exposures if e.contact_id}, key=str)
    for chunk in chunks(contacts):
        stmt = select(Activity.contact_id, Activity.occurred_at).where(among(session, Activity.contact_id, chunk), Activity.type == "meeting")
        for contact_id, at in session.execute(stmt):
            found[contact_id].append(at)
    return found


def lifecycle_changes(session: Session, exposures: list[Exposure]) -> tuple[dict[Any, list[tuple[datetime, str, str]]], dict[Any, str]]:
    """(record type, id) -> its lifecycle stage changes [(at, old, new)] oldest first, and
    its lifecycle stage now: contacts and leads."""
    history: dict[Any, list[tuple[datetime, str, str]]] = defaultdict(list)
    current: dict[Any, str] = {}
    for record_type, model in (("contact", Contact), ("lead", Lead)):
        ids = sorted({e.record_id for e in exposures if e.record_type == record_type}, key=str)
        for chunk in chunks(ids):
            current.update({(record_type, i): s for i, s in session.execute(select(model.id, model.lifecycle_stage).where(among(session, model.id, chunk)))})
            stmt = select(RecordHistory.record_id, RecordHistory.at, RecordHistory.changes).where(
                RecordHistory.record_type == record_type, among(session, RecordHistory.record_id, chunk),
                RecordHistory.changes["lifecycle_stage"].is_not(None)).order_by(RecordHistory.at, RecordHistory.id)
            for record_id, at, changes in session.execute(stmt):
                pair = changes.get("lifecycle_stage")
                if isinstance(pair, list) and len(pair) == 2:
                    history[(record_type, record_id)].append((at, pair[0], pair[1]))
    return history, current
