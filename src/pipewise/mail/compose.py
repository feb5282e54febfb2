"""Writing an outgoing e-mail into the ledger: the one way any part of Pipewise sends.

``queue`` refuses an address that is suppressed or a contact who withdrew consent,
sends as the sender's mailbox (whose From address is verified when it is saved), adds
tracking and the unsubscribe footer where asked, writes the row as ``queued`` and hands
it to delivery, which checks the same rules and the daily cap again before SMTP. A
``send_key`` makes the call idempotent: the same key never writes a second message."""

import html
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.db.base import uuid7
from pipewise.errors import ValidationFailed
from pipewise.mail import clock, delivery, tracking
from pipewise.mail.mailboxes import mailbox_of, may_send_as
from pipewise.mail.models import EmailAttachment, EmailMessage
from pipewise.mail.suppression import refusal

KINDS = ("sequence", "manual", "workflow", "notice")


class Refused(ValidationFailed):
    """Nothing may be sent to this address (suppressed, or consent withdrawn)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Letter:
    """One e-mail a sender asks for. ``html`` None sends plain text only."""

    to_address: str
    subject: str
    text: str
    kind: str
    automated: bool
    html: str | None = None
    contact: Contact | None = None
    sender_id: uuid.UUID | None = None
    # Track opens and clicks (as the mailbox allows) and add the unsubscribe footer.
    tracked: bool = False
    pk: uuid.UUID = field(default_factory=uuid7)
    message_id: str | None = None
    send_key: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    enrollment_id: uuid.UUID | None = None
    step_id: uuid.UUID | None = None
    variant_id: uuid.UUID | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # The content carries a price, discount or offer (see the pricing guard in mail/pricing.py).
    mentions_pricing: bool = False
    ical: str | None = None  # an invitation's iCalendar object, with its METHOD


def text_to_html(text: str) -> str:
    return "<p>" + html.escape(text).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"


def check(session: Session, letter: Letter) -> None:
    """Raise ``Refused`` (422, with the field) if nothing may go to the letter's address."""
    if not letter.to_address:
        raise ValidationFailed.on("contact_id" if letter.contact else "to", "there is no e-mail address to send to")
    reason = refusal(session, letter.to_address, letter.contact)
    if reason is not None:
        raise Refused.on("contact_id" if letter.contact else "to", reason)


def sender_address(session: Session, sender_id: uuid.UUID | None, address: str) -> str:
    """The mailbox's From if its user may still send as it (an approval can be taken
    back), else the user's login address."""
    user = session.get(User, sender_id) if sender_id else None
    return address if user is None or may_send_as(session, user, address) else user.email


def by_key(session: Session, send_key: str) -> EmailMessage | None:
    return session.scalar(select(EmailMessage).where(EmailMessage.send_key == send_key))


def queue(session: Session, letter: Letter, *, immediately: bool) -> EmailMessage:
    """Write ``letter`` to the ledger and arrange its delivery: right after the caller's
    transaction commits when ``immediately`` (only the worker asks for that), else on the
    worker's next pass (a request: no web process speaks SMTP)."""
    if letter.send_key:
        existing = by_key(session, letter.send_key)
        if existing is not None:
            return existing
    check(session, letter)
    mailbox = mailbox_of(session, letter.sender_id)
    from_address = sender_address(session, letter.sender_id, mailbox.from_address)
    domain = from_address.rpartition("@")[2] or "pipewise.local"
    text, body_html = letter.text, letter.html
    if letter.tracked:
        body_html, text = tracking.decorate(
            body_html or text_to_html(text), text, message_pk=letter.pk, track_opens=mailbox.track_opens, track_clicks=mailbox.track_clicks
        )
    now = clock.now()
    message = EmailMessage(
        id=letter.pk,
        message_id=letter.message_id or f"<{letter.pk.hex}@{domain}>",
        direction="outbound",
        kind=letter.kind,
        status="queued",
        enrollment_id=letter.enrollment_id,
        step_id=letter.step_id,
        variant_id=letter.variant_id,
        contact_id=letter.contact.id if letter.contact else None,
        account_id=letter.contact.account_id if letter.contact else None,
        sender_id=letter.sender_id,
        from_address=from_address,
        to_address=letter.to_address.strip(),
        subject=letter.subject[:500],
        in_reply_to=letter.in_reply_to,
        references=letter.references,
        body_html=body_html,
        body_text=text,
        automated=letter.automated,
        send_key=letter.send_key,
        mentions_pricing=letter.mentions_pricing,
        ical=letter.ical,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    for attachment in letter.attachments:
        session.add(EmailAttachment(
            message_id=message.id, filename=attachment.filename, content_type=attachment.content_type, content=attachment.content,
        ))
    delivery.enqueue(session, message, immediately=immediately)
    return message
