"""What leads do when other things happen: a new or changed lead is compared, scored and
routed right after its commit (``intake``), a contact's blocking keys follow the contact,
a person's first touch stops the SLA clock, an assignment tells the new owner, a won deal
makes its lead a customer. And the timers of scoring and routing, which act on leads: the
SLA check, the daily score decay and model training."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.assignment.events import LeadAssigned
from pipewise.assignment.service import SLA_ACTION, held
from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.events import AccountUpdated, ActivityCreated, ContactCreated, ContactUpdated
from pipewise.crm.models import Task
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import add_later
from pipewise.deals.events import DealStageChanged
from pipewise.events import bus
from pipewise.events.base import RecordEvent
from pipewise.leads import intake, routing, scores
from pipewise.leads.events import LeadCreated, LeadsImported, LeadUpdated
from pipewise.leads.lifecycle import move_stage
from pipewise.leads.models import FormSubmission, Lead
from pipewise.notifications.service import notify_later
from pipewise.scoring.service import DECAY_ACTION
from pipewise.scoring.training import TRAIN_ACTION


def on_activity(session: Session, event: bus.Event) -> None:
    changes = event.payload.get("changes", {})
    lead_id = (changes.get("lead_id") or [None, None])[1]
    automated = (changes.get("automated") or [None, False])[1]
    if not lead_id or automated:
        return
    occurred = (changes.get("occurred_at") or [None, None])[1]
    at = datetime.fromisoformat(occurred) if occurred else event.occurred_at
    routing.first_touch(session, uuid.UUID(lead_id), at)


def load_assigned(session: Session, events: list[bus.Event]) -> None:
    """Before a batch: the leads its assignments announce, in one statement."""
    intake.hold_leads(session, [event.record_id for event in events if event.record_id is not None])


def notify_owner(session: Session, event: bus.Event) -> None:
    """The owner is notified, and the lead is a task on their list, due when the SLA is."""
    data = event.payload.get("data", {})
    lead = intake.batch_lead(session, event.record_id)
    if lead is None:
        return
    # Held for the batch: the identity map keeps an unchanged object only while something
    # refers to it, and a batch notifies the same few owners many times.
    owner = held(session, User, uuid.UUID(data["owner_id"])) if data.get("owner_id") else None
    if owner is not None:
        due = datetime.fromisoformat(data["sla_due_at"]) if data.get("sla_due_at") else None
        notify_later(session, owner.id, "lead_routed", f"New lead: {lead.full_name}{' at ' + lead.company if lead.company else ''}",
               body=data.get("reason"), link=f"/leads/{lead.id}", record_type="lead", record_id=lead.id,
               key=f"lead_routed:{event.id}")
        add_later(session, Task, {
            "id": uuid7(),
            "title": f"New lead: {lead.full_name}{' at ' + lead.company if lead.company else ''} (score {lead.score})",
            "notes": data.get("reason"),
            "due_at": due,
            "priority": "high" if due else "normal",
            "owner_id": owner.id,
            "related_type": "lead",
            "related_id": lead.id,
        })
    if data.get("submission_id"):
        submission = session.get(FormSubmission, uuid.UUID(data["submission_id"]))
        if submission is not None and submission.notified_at is None:
            submission.notified_at = utcnow()
            submission.speed_to_lead_ms = int((submission.notified_at - submission.received_at).total_seconds() * 1000)


def expand_import(session: Session, event: bus.Event) -> None:
    """A batch of imported leads becomes one ``lead.created`` per lead, as if each had
    been created by hand, naming the import and the CSV line."""
    data = event.payload.get("data", {})
    source = str(event.record_id)
    for lead_id, line in zip(data.get("lead_ids", []), data.get("lines", []), strict=True):
        bus.record(session, RecordEvent(record_id=uuid.UUID(lead_id), actor_id=event.actor_id, action="created", type_name="lead",
                                        changes={"import": [None, source], "line": [None, line]}))


def on_deal_won(session: Session, event: bus.Event) -> None:
    if event.payload.get("data", {}).get("kind") != "won":
        return
    for lead in session.scalars(select(Lead).where(Lead.converted_deal_id == event.record_id)):
        move_stage(session, lead, "customer", actor=SYSTEM_ACTOR, cause="its deal was won")


TABLE = bus.HandlerTable(
    subscriptions=(
        bus.Subscription.to((LeadCreated, LeadUpdated), intake.SUBSCRIBER, intake.on_lead, rerun_safe=True,
                            prepare=intake.load_leads, foresee=intake.foresee),
        bus.Subscription.to((ContactCreated, ContactUpdated), "leads.contact_keys", intake.on_contact, rerun_safe=True,
                            prepare=intake.refresh_contact_keys),
        bus.Subscription.to(AccountUpdated, "leads.account_keys", intake.on_account, rerun_safe=True),
        bus.Subscription.to(ActivityCreated, "leads.first_touch", on_activity),
        bus.Subscription.to(LeadAssigned, "leads.notify_owner", notify_owner, rerun_safe=True, prepare=load_assigned),
        bus.Subscription.to(LeadsImported, "leads.expand_import", expand_import),
        bus.Subscription.to(DealStageChanged, "leads.customer_on_win", on_deal_won),
    ),
    timers={
        SLA_ACTION: bus.ActionKind(routing.check_sla),
        DECAY_ACTION: bus.ActionKind(scores.run_decay),
        TRAIN_ACTION: bus.ActionKind(scores.run_training),
    },
)
