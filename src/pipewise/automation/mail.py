"""Workflow e-mail through the one mail path: a ``send_email`` step or a ``notify`` step's
e-mail becomes a ledger message (mail/compose.py) keyed by the step's idempotency key,
so a retried step never writes a second one, and is delivered like every other e-mail
(SMTP when configured, else the .eml outbox) under the same suppression list, consent
and caps. A workflow's e-mail (to a contact or a notified user) is sent as the
workflow's author: their mailbox, verified From address and daily cap."""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from pipewise.crm.models import Contact
from pipewise.mail import compose
from pipewise.mail.compose import Refused  # noqa: F401 - what a refused send raises
from pipewise.mail.models import EmailMessage


def send(
    session: Session, *, key: str, to: str, subject: str, body: str, record: Any, author_id: uuid.UUID | None,
) -> EmailMessage:
    """Queue one plain-text e-mail; raises ``compose.Refused`` if ``to`` may not get it."""
    contact = record if isinstance(record, Contact) and (record.email or "").lower() == to.strip().lower() else None
    letter = compose.Letter(
        to_address=to, subject=subject, text=body, kind="workflow", automated=True, contact=contact, sender_id=author_id, send_key=key,
    )
    return compose.queue(session, letter, immediately=True)


def outcome(message: EmailMessage) -> dict[str, Any]:
    return {"message_id": message.message_id, "to": message.to_address, "status": message.status}
