"""Who an automation reached and when: one ``Exposure`` per enrollment of a sequence or a
workflow that started in the range, with its automated touches, and the deals, meetings
and interactions around the people and accounts it touched."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, func, literal, or_, select, true
from sqlalchemy.orm import Session, aliased

from pipewise.analytics import sql
from pipewise.analytics.filters import ReportFilter, deal_conditions, in_range, owner_conditions
from pipewise.analytics.sql import among, raw_id
from pipewise.auth.visibility import Actor
from pipewise.automation.acting import workflow_clause
from pipewise.automation.models import Decision, Workflow
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.crm.models import Account, Activity, Contact
from pipewise.deals.models import Deal, DealContact, DealStageChange, Stage
from pipewise.leads.models import Lead
from pipewise.mail.models import EmailMessage
from pipewise.records.models import RecordHistory
from pipewise.sequences.metrics import Touch
from pipewise.sequences.models import Enrollment as SequenceEnrollment
from pipewise.sequences.models import Sequence, SequenceStep, StepVariant

OWNED = {"contact": Contact, "lead": Lead, "account": Account, "deal": Deal}


@dataclass
class Exposure:
    """Ids as ``sql.raw_id`` reads them: they are only compared with each other."""

    automation: str  # "Sequence: name" / "Workflow: name"
    kind: str  # sequence | workflow
    enrolled_at: datetime
    record_type: str
    record_id: Any
    contact_id: Any = None
    lead_id: Any = None
    account_id: Any = None
    deal_id: Any = None
    # An enrolled deal's (id, account, created, closed, stage kind, amount, counted), read with
    # the enrollment; empty when the report does not look at the deal; None: not read.
    deal_row: tuple[Any, ...] | None = None
    touches: list[Touch] = field(default_factory=list)
    # What each touch did: key -> {"sent", "opened", "replied"} flags and labels.
    mail: list[dict[str, Any]] = field(default_factory=list)


def ids_of(exposures: list[Exposure], link: str) -> set[Any]:
    """The contact, lead, account or deal ids (``link``) the exposures have."""
    return {ref for e in exposures if (ref := getattr(e, f"{link}_id"))}


# -- sequences -------------------------------------------------------------------------------


def sequence_exposures(session: Session, flt: ReportFilter, actor: Actor) -> list[Exposure]:
    """Enrollments of contacts ``actor`` may see (within the team / owner filter) that
    started in the range, with every e-mail their sequence sent them."""
    stmt = (
        select(raw_id(SequenceEnrollment.id), Sequence.name, raw_id(SequenceEnrollment.contact_id),
               raw_id(func.coalesce(SequenceEnrollment.account_id, Contact.account_id)), SequenceEnrollment.enrolled_at)
        .join(Sequence, Sequence.id == SequenceEnrollment.sequence_id)
        .join(Contact, Contact.id == SequenceEnrollment.contact_id)
        .where(*owner_conditions(Contact.owner_id, flt, actor), *in_range(SequenceEnrollment.enrolled_at, flt))
    )
    exposures = {
        enrollment_id: Exposure(f"Sequence: {name}", "sequence", enrolled_at, "contact", contact_id,
                                contact_id=contact_id, account_id=account_id)
        for enrollment_id, name, contact_id, account_id, enrolled_at in session.execute(stmt)
    }
    if not exposures:
        return []
    steps = {s.id: s for s in session.scalars(select(SequenceStep))}
    labels = dict(session.execute(select(StepVariant.id, StepVariant.label)).all())
    mails = select(raw_id(EmailMessage.enrollment_id), EmailMessage.step_id, EmailMessage.variant_id, EmailMessage.sent_at,
                   EmailMessage.opened_at, EmailMessage.replied_at).where(
        among(session, EmailMessage.enrollment_id, exposures), EmailMessage.direction == "outbound", EmailMessage.status == "sent",
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


def deal_visible(flt: ReportFilter, actor: Actor) -> list[Any]:
    """The deals a report about automation looks at: those the reader may see, in the
    filter's pipeline (the team, owner and source filters narrow the enrollments instead)."""
    return deal_conditions(Deal, ReportFilter(start=flt.start, end=flt.end, pipeline_id=flt.pipeline_id), actor)


def _deal_columns(flt: ReportFilter, actor: Actor, stage: Any) -> list[Any]:
    """What ``DealFacts`` reads of a deal but its id, account, contacts and moves: created,
    closed, the kind of its ``stage``, amount, and whether the report's own filters count it."""
    return [Deal.created_at, Deal.closed_at, stage.kind, Deal.amount, and_(true(), *deal_conditions(Deal, flt, actor)).label("counted")]


def workflow_exposures(session: Session, flt: ReportFilter, actor: Actor) -> list[Exposure]:
    """Enrollments (not test runs) of workflows ``actor`` may see, of records ``actor`` may
    see (within the team / owner filter), that started in the range, each with every action
    step the workflow took, what an e-mail it sent did and, for a deal, its facts: one
    statement, each record joined where its type says."""
    enrollment, deal_stage = WorkflowEnrollment, aliased(Stage)
    # The key a workflow's e-mail was sent under (``timers.timer_key``), built by the database.
    send_key = (literal("wf:", String()) + sql.hex_text(session, enrollment.version_id) + ":" + sql.hex_text(session, enrollment.id)
                + ":" + Decision.step_id)
    stmt = (select(raw_id(enrollment.id), Workflow.name, enrollment.record_type, raw_id(enrollment.record_id), enrollment.enrolled_at,
                   raw_id(func.coalesce(Contact.account_id, Lead.account_id, Deal.account_id, Account.id)),
                   raw_id(func.coalesce(Lead.converted_deal_id, Deal.id)),
                   *_deal_columns(flt, actor, deal_stage), and_(true(), *deal_visible(flt, actor)).label("in_view"), Decision.step_id, Decision.version_number, Decision.at, EmailMessage.id.is_not(None), EmailMessage.opened_at,
                   EmailMessage.replied_at)
            .join(Workflow, Workflow.id == enrollment.workflow_id))
    for name, model in OWNED.items():
        stmt = stmt.outerjoin(model, and_(enrollment.record_type == name, model.id == enrollment.record_id))
    stmt = (stmt.outerjoin(deal_stage, deal_stage.id == Deal.stage_id)
            .outerjoin(Decision, and_(Decision.enrollment_id == enrollment.id, Decision.kind == "acted", Decision.test_mode.is_(False)))
            .outerjoin(EmailMessage, and_(EmailMessage.send_key == send_key, EmailMessage.status == "sent")))
    visible_record = or_(*(and_(enrollment.record_type == name, model.id.is_not(None), *owner_conditions(model.owner_id, flt, actor))
                           for name, model in OWNED.items()))
    visible_workflow = workflow_clause(actor)
    stmt = stmt.where(enrollment.test_mode.is_(False), visible_record, *in_range(enrollment.enrolled_at, flt),
                      *([visible_workflow] if visible_workflow is not None else []))
    exposures: dict[Any, Exposure] = {}
    for (enrollment_id, name, record_type, record_id, enrolled_at, account_id, deal_id, *deal, in_view,
         step_id, version_number, at, sent, opened_at, replied_at) in session.execute(stmt):
        exposure = exposures.get(enrollment_id)
        if exposure is None:
            exposure = exposures[enrollment_id] = Exposure(
                f"Workflow: {name}", "workflow", enrolled_at, record_type, record_id, account_id=account_id, deal_id=deal_id,
                contact_id=record_id if record_type == "contact" else None, lead_id=record_id if record_type == "lead" else None)
            if record_type == "deal":
                exposure.deal_row = (record_id, account_id, *deal) if in_view else ()
        if at is None:  # no action yet
            continue
        key = (exposure.automation, step_id or "—", f"version {version_number}")
        exposure.touches.append(Touch(key, exposure.contact_id, exposure.account_id, at))
        if sent:
            exposure.mail.append({"key": key, "at": at, "opened": opened_at is not None, "replied": replied_at is not None})
        else:
            exposure.mail.append({"key": key, "at": at, "acted_only": True})
    return list(exposures.values())


# -- what happened around them ---------------------------------------------------------------


@dataclass(frozen=True)
class DealFacts:
    id: Any  # ids as ``sql.raw_id`` reads them
    account_id: Any
    contact_ids: frozenset[Any]
    created_at: datetime
    closed_at: datetime | None
    kind: str  # open | won | lost
    amount: Any
    advances: tuple[datetime, ...]  # stage changes to a later stage or to won (since the first enrollment)
    counted: bool = True  # within the report's own filters (team, owner, source)


def deals_around(session: Session, flt: ReportFilter, actor: Actor, exposures: list[Exposure]) -> list[DealFacts]:
    """Every deal (``deal_visible``) at a touched account, with a touched contact, or that a
    workflow enrolled, with its stage advances since the first enrollment and whether the
    report's own filters count it."""
    known = {e.record_id: e.deal_row for e in exposures if e.deal_row is not None}
    rows: dict[Any, tuple[Any, ...]] = {i: row for i, row in known.items() if row}
    accounts, contacts, deal_ids = ids_of(exposures, "account"), ids_of(exposures, "contact"), ids_of(exposures, "deal") - known.keys()
    wheres = [*([among(session, Deal.account_id, accounts)] if accounts else []), *([among(session, Deal.id, deal_ids)] if deal_ids else []),
              *([Deal.id.in_(select(DealContact.deal_id).where(among(session, DealContact.contact_id, contacts)))] if contacts else [])]
    read = select(raw_id(Deal.id), raw_id(Deal.account_id), *_deal_columns(flt, actor, Stage)).join(Stage, Stage.id == Deal.stage_id)
    visible = deal_visible(flt, actor)
    for where in wheres:
        rows.update({r[0]: tuple(r) for r in session.execute(read.where(where, *visible))})
    if not rows:
        return []
    links: dict[Any, set[Any]] = defaultdict(set)
    advances: dict[Any, list[datetime]] = defaultdict(list)
    contacts_of = select(raw_id(DealContact.deal_id), raw_id(DealContact.contact_id)).where(among(session, DealContact.deal_id, rows))
    for deal_id, contact_id in session.execute(contacts_of):
        links[deal_id].add(contact_id)
    # Touches come after their enrollment: no advance before the first can follow one.
    since = min(e.enrolled_at for e in exposures)
    change, before, after = DealStageChange, aliased(Stage), aliased(Stage)
    moves = (select(raw_id(change.deal_id), change.at).join(before, before.id == change.from_stage_id)
             .join(after, after.id == change.to_stage_id).where(among(session, change.deal_id, rows), change.at >= since, forward(before, after)))
    for deal_id, at in session.execute(moves):
        advances[deal_id].append(at)
    return [DealFacts(i, r[1], frozenset(links[i]), r[2], r[3], r[4], r[5], tuple(sorted(advances[i])), bool(r[6])) for i, r in rows.items()]


def forward(before: Any, after: Any) -> Any:
    """A move from stage ``before`` to a later open stage, or to won: an advance."""
    return and_(after.kind != "lost", or_(after.kind == "won", after.position > before.position))


def interactions(session: Session, exposures: list[Exposure]) -> dict[tuple[str, Any], list[datetime]]:
    """(link, id) -> when a person had a meaningful sales interaction with the record: a
    call or meeting logged by a person, or an e-mail the contact sent in."""
    since = min((e.enrolled_at for e in exposures), default=None)
    found: dict[tuple[str, Any], list[datetime]] = defaultdict(list)
    if since is None:
        return found
    for link, column in (("contact", Activity.contact_id), ("lead", Activity.lead_id), ("deal", Activity.deal_id), ("account", Activity.account_id)):
        if ids := ids_of(exposures, link):
            stmt = select(raw_id(column), Activity.occurred_at).where(among(session, column, ids), Activity.type.in_(("call", "meeting")),
                                                                      Activity.automated.is_(False), Activity.occurred_at >= since)
            for record_id, at in session.execute(stmt):
                found[(link, record_id)].append(at)
    if contacts := ids_of(exposures, "contact"):
        stmt = select(raw_id(EmailMessage.contact_id), EmailMessage.created_at).where(
            among(session, EmailMessage.contact_id, contacts), EmailMessage.direction == "inbound", EmailMessage.kind == "reply",
            EmailMessage.created_at >= since)
        for contact_id, at in session.execute(stmt):
            found[("contact", contact_id)].append(at)
    return found


def meetings_of(session: Session, exposures: list[Exposure]) -> dict[Any, list[datetime]]:
    """contact id -> when meetings with the contact were logged."""
    found: dict[Any, list[datetime]] = defaultdict(list)
    if contacts := ids_of(exposures, "contact"):
        stmt = select(raw_id(Activity.contact_id), Activity.occurred_at).where(among(session, Activity.contact_id, contacts),
                                                                                Activity.type == "meeting")
        for contact_id, at in session.execute(stmt):
            found[contact_id].append(at)
    return found


def lifecycle_changes(session: Session, exposures: list[Exposure]) -> tuple[dict[Any, list[tuple[datetime, str, str]]], dict[Any, str]]:
    """(record type, id) -> its lifecycle stage changes [(at, old, new)] oldest first, and
    its lifecycle stage now: contacts and leads."""
    history: dict[Any, list[tuple[datetime, str, str]]] = defaultdict(list)
    current: dict[Any, str] = {}
    for record_type, model in (("contact", Contact), ("lead", Lead)):
        ids = {e.record_id for e in exposures if e.record_type == record_type}
        if not ids:
            continue
        current.update({(record_type, i): s for i, s in session.execute(
            select(raw_id(model.id), model.lifecycle_stage).where(among(session, model.id, ids)))})
        stmt = select(raw_id(RecordHistory.record_id), RecordHistory.at, RecordHistory.changes).where(
            RecordHistory.record_type == record_type, among(session, RecordHistory.record_id, ids),
            RecordHistory.changes["lifecycle_stage"].is_not(None)).order_by(RecordHistory.at, RecordHistory.id)
        for record_id, at, changes in session.execute(stmt):
            pair = changes.get("lifecycle_stage")
            if isinstance(pair, list) and len(pair) == 2:
                history[(record_type, record_id)].append((at, pair[0], pair[1]))
    return history, current
