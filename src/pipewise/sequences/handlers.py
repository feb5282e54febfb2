"""Sales signals from the outbox: each affected enrollment is re-evaluated at once, so a
pause or exit is on the record before its next step would come due (the step re-checks
anyway). ``TABLE`` lists the subscribers and the timers' handlers."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.events import ActivityCreated, ContactUpdated, TaskUpdated
from pipewise.crm.models import Contact, Task
from pipewise.deals.events import DealCreated, DealUpdated
from pipewise.deals.models import Deal, DealContact
from pipewise.events import bus
from pipewise.quotes.events import QuoteAccepted, QuoteDeclined
from pipewise.sequences import engine
from pipewise.sequences.decisions import live_enrollments
from pipewise.sequences.events import add_task
from pipewise.sequences.models import Sequence


def _new(changes: dict[str, Any], field: str) -> Any:
    value = changes.get(field)
    return value[1] if isinstance(value, list) and len(value) == 2 else None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def on_activity(session: Session, event: bus.Event) -> None:
    """A reply, a meeting or a rep's own call or e-mail. An inbound reply comes this way
    too (mail records it as an activity): this is the one place it drives the engine."""
    changes = event.payload.get("changes", {})
    kind = _new(changes, "type")
    if kind not in ("email", "call", "meeting") or (_new(changes, "automated") and kind != "meeting"):
        return
    contact_id = _uuid(_new(changes, "contact_id"))
    if contact_id is None:
        return
    engine.reevaluate(session, live_enrollments(session, contact_ids={contact_id}, account_id=_uuid(_new(changes, "account_id"))))


def on_meeting(session: Session, event: bus.Event) -> None:
    data = {**event.payload, **event.payload.get("data", {})}
    contact_ids = {c for c in (_uuid(v) for v in [data.get("contact_id"), *data.get("contact_ids", [])]) if c}
    if contact_ids:
        accounts = set(session.scalars(select(Contact.account_id).where(Contact.id.in_(contact_ids), Contact.account_id.is_not(None))))
        enrollments = live_enrollments(session, contact_ids=contact_ids)
        for account_id in accounts:
            enrollments += live_enrollments(session, account_id=account_id)
        engine.reevaluate(session, list({e.id: e for e in enrollments}.values()))


def on_quote_answer(session: Session, event: bus.Event) -> None:
    """The buyer accepted or declined a quote: the guards read it like a reply."""
    data = event.payload.get("data", {})
    contact_id = _uuid(data.get("contact_id"))
    if contact_id is not None:
        engine.reevaluate(session, live_enrollments(session, contact_ids={contact_id}, account_id=_uuid(data.get("account_id"))))


def on_deal(session: Session, event: bus.Event) -> None:
    """A deal was created or changed; a stage move is one ``deal.stage_changed``, so the
    guards of each enrollment run once per move."""
    deal = session.get(Deal, event.record_id) if event.record_id else None
    if deal is None:
        return
    contacts = set(session.scalars(select(DealContact.contact_id).where(DealContact.deal_id == deal.id)))
    engine.reevaluate(session, live_enrollments(session, contact_ids=contacts, account_id=deal.account_id))


def on_contact(session: Session, event: bus.Event) -> None:
    changes = event.payload.get("changes", {})
    contact = session.get(Contact, event.record_id) if event.record_id else None
    if contact is None:
        return
    enrollments = live_enrollments(session, contact_ids={contact.id})
    if "owner_id" in changes:
        _owner_changed(session, contact, enrollments)
    if {"consent_state", "email", "account_id"} & set(changes):
        for enrollment in enrollments:
            enrollment.account_id = contact.account_id
        engine.reevaluate(session, enrollments)


def _owner_changed(session: Session, contact: Contact, enrollments: list) -> None:
    new_owner = session.get(User, contact.owner_id) if contact.owner_id else None
    owned = [e for e in enrollments if e.status == "active" and session.get(Sequence, e.sequence_id).sender_id is None]
    if not owned:
        return
    names = ", ".join(f"“{session.get(Sequence, e.sequence_id).name}”" for e in owned)
    add_task(
        session,
        title=f"Review automation for {contact.full_name}",
        notes=f"You now own {contact.full_name}. Their sequences ({names}) are paused until you resume or remove them.",
        owner_id=contact.owner_id,
        contact_id=contact.id,
    )
    for enrollment in owned:
        enrollment.sender_id = contact.owner_id
        engine.pause(
            session, enrollment, code="owner_changed",
            reason=f"the contact's owner changed to {new_owner.name if new_owner else 'nobody'}, who reviews the sequence first",
            until=None,
        )


def on_task(session: Session, event: bus.Event) -> None:
    status = _new(event.payload.get("changes", {}), "status")
    if status not in ("done", "cancelled"):
        return
    task = session.get(Task, event.record_id) if event.record_id else None
    if task is not None:
        engine.task_closed(session, task)


TABLE = bus.HandlerTable(
    subscriptions=(
        bus.Subscription.to(ActivityCreated, "sequences.activity_signal", on_activity),
        # No meetings package declares its events yet; its MeetingBooked will go here.
        bus.Subscription("meeting.*", "sequences.meeting_signal", on_meeting),
        bus.Subscription.to((DealCreated, DealUpdated), "sequences.deal_signal", on_deal),
        bus.Subscription.to((QuoteAccepted, QuoteDeclined), "sequences.quote_signal", on_quote_answer),
        bus.Subscription.to(ContactUpdated, "sequences.contact_signal", on_contact),
        bus.Subscription.to(TaskUpdated, "sequences.task_signal", on_task),
    ),
    timers={
        engine.STEP_ACTION: bus.ActionKind(engine.run_step),
        engine.RESUME_ACTION: bus.ActionKind(engine.run_resume),
    },
)
