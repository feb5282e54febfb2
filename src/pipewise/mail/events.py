"""``email.<action>`` events of the ledger's messages, each also written as an activity on
the contact's timeline. Activities are inserted directly (not through the validating
services) so an admin's required custom field can never stop mail from recording what
happened; they still get history and events."""

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Activity, Contact
from pipewise.db.base import uuid7
from pipewise.events import bus
from pipewise.events.base import DomainEvent
from pipewise.mail import clock, hooks
from pipewise.mail.models import EmailMessage
from pipewise.records.history import record_change

EMAIL_ACTIONS = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed")
ACTIVITY_TITLES = {
    "sent": "Sent",
    "delivered": "Delivered",
    "opened": "Opened",
    "clicked": "Clicked a link in",
    "replied": "Reply to",
    "bounced": "Bounced",
    "unsubscribed": "Unsubscribed via",
}


@dataclass(frozen=True, kw_only=True)
class EmailEvent(DomainEvent):
    """``email.<action>`` on a contact."""

    record_type: ClassVar[str] = "contact"
    action: str = "sent"

    def event_name(self) -> str:
        return f"email.{self.action}"


def record_created(session: Session, record: Any, record_type: str, fields: dict[str, Any]) -> None:
    changes = {k: [None, v] for k, v in fields.items() if v not in (None, {}, [])}
    record_change(session, record_type=record_type, record_id=record.id, action="created", changes=changes, actor=SYSTEM_ACTOR)


def add_activity(session: Session, **fields: Any) -> Activity:
    if fields.get("contact_id") and "account_id" not in fields:
        contact = session.get(Contact, fields["contact_id"])
        fields["account_id"] = contact.account_id if contact else None
    activity = Activity(id=uuid7(), **fields)
    session.add(activity)
    record_created(session, activity, "activity", fields)
    return activity


def emit(
    session: Session, message: EmailMessage, action: str, *, detail: str | None = None, extra: dict[str, Any] | None = None
) -> None:
    """Record ``email.<action>`` for ``message`` as an outbox event and an activity."""
    data = {
        "message_id": message.message_id,
        "subject": message.subject,
        "to": message.to_address,
        "sequence_id": None,
        "enrollment_id": str(message.enrollment_id) if message.enrollment_id else None,
        "step_id": str(message.step_id) if message.step_id else None,
        "variant": None,
        "kind": message.kind,
        **hooks.event_data(session, message),
        **(extra or {}),
    }
    bus.record(session, EmailEvent(record_id=message.contact_id, action=action, data=data))
    if message.contact_id is None:
        return
    inbound = action == "replied"
    add_activity(
        session,
        type="email",
        direction="inbound" if inbound else "outbound",
        subject=f"{ACTIVITY_TITLES[action]}: {message.subject or '(no subject)'}"[:300],
        body=detail if detail is not None else (message.body_text if action in ("sent", "replied") else None),
        occurred_at=clock.now(),
        owner_id=message.sender_id,
        contact_id=message.contact_id,
        # A prospect's reply is their own act, not automation's; every other e-mail
        # event is something automation did or observed. A rep's send of a manual step
        # is a step of its sequence, not a touch by hand that would hold the sequence.
        automated=not inbound and (message.automated or message.enrollment_id is not None or action != "sent"),
    )
