"""``email.<action>`` events of the ledger's messages, each also written as an activity on
the contact's timeline. Activities are inserted directly (not through the validating
services) so an admin's required custom field can never stop mail from recording what
happened; they still get history and events."""

import uuid
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
    """Something happened to one of a contact's e-mails; one subclass per ``email.<action>``."""

    record_type: ClassVar[str] = "contact"

    message_id: str
    subject: str | None = None
    to: str
    kind: str
    enrollment_id: uuid.UUID | None = None
    step_id: uuid.UUID | None = None
    # Named by the package whose message it is (``hooks.event_data``): sequences.
    sequence_id: str | None = None
    variant: str | None = None


@dataclass(frozen=True, kw_only=True)
class EmailSent(EmailEvent):
    name: ClassVar[str] = "email.sent"


@dataclass(frozen=True, kw_only=True)
class EmailDelivered(EmailEvent):
    name: ClassVar[str] = "email.delivered"


@dataclass(frozen=True, kw_only=True)
class EmailOpened(EmailEvent):
    name: ClassVar[str] = "email.opened"


@dataclass(frozen=True, kw_only=True)
class EmailClicked(EmailEvent):
    name: ClassVar[str] = "email.clicked"

    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class EmailReplied(EmailEvent):
    name: ClassVar[str] = "email.replied"

    in_reply_to: str | None = None  # the Message-ID of the e-mail answered


@dataclass(frozen=True, kw_only=True)
class EmailBounced(EmailEvent):
    name: ClassVar[str] = "email.bounced"


@dataclass(frozen=True, kw_only=True)
class EmailUnsubscribed(EmailEvent):
    name: ClassVar[str] = "email.unsubscribed"


EMAIL_EVENTS: dict[str, type[EmailEvent]] = {
    cls.name.removeprefix("email."): cls
    for cls in (EmailSent, EmailDelivered, EmailOpened, EmailClicked, EmailReplied, EmailBounced, EmailUnsubscribed)
}
EMAIL_ACTIONS = tuple(EMAIL_EVENTS)


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
    """Record ``email.<action>`` for ``message`` as an outbox event and an activity;
    ``extra`` holds the fields of that action's own event (``url`` of a click)."""
    event = EMAIL_EVENTS[action](
        record_id=message.contact_id,
        message_id=message.message_id,
        subject=message.subject,
        to=message.to_address,
        kind=message.kind,
        enrollment_id=message.enrollment_id,
        step_id=message.step_id,
        **hooks.event_data(session, message),
        **(extra or {}),
    )
    bus.record(session, event)
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
