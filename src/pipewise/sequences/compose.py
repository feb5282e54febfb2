"""Composing an outgoing e-mail into the ledger: merge fields, signature, threading,
tracking, and a stable Message-ID. The row is written as ``queued``; delivery.py sends it."""

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.db.base import uuid7
from pipewise.errors import ValidationFailed
from pipewise.sequences import clock, templates, tracking
from pipewise.sequences.guards import mailbox_of, suppression_of
from pipewise.sequences.models import EmailMessage, Enrollment, SequenceStep, StepVariant

SENT_LIKE = ("sending", "committing", "sent", "bounced")


@dataclass(frozen=True)
class Draft:
    subject: str
    body_html: str
    body_text: str | None = None


def step_message_id(enrollment: Enrollment, step: SequenceStep, sender_address: str) -> str:
    """The same (enrollment, step) always gets the same Message-ID: the idempotency key
    of the send, and what replies and bounces point back to."""
    domain = sender_address.rpartition("@")[2] or "pipewise.local"
    return f"<seq.{enrollment.id.hex}.{step.id.hex}@{domain}>"


def pick_variant(session: Session, step: SequenceStep, enrollment_id: uuid.UUID) -> StepVariant | None:
    """A weighted choice that is stable for one enrollment (a retry picks the same one)."""
    variants = list(session.scalars(select(StepVariant).where(StepVariant.step_id == step.id).order_by(StepVariant.label)))
    if not variants:
        return None
    total = sum(v.weight for v in variants)
    point = int.from_bytes(hashlib.sha256(f"{enrollment_id}:{step.id}".encode()).digest()[:8], "big") % total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]


def thread_of(session: Session, enrollment_id: uuid.UUID) -> list[EmailMessage]:
    return list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.enrollment_id == enrollment_id, EmailMessage.direction == "outbound", EmailMessage.status.in_(SENT_LIKE))
            .order_by(EmailMessage.created_at, EmailMessage.id)
        )
    )


def _signed(html: str, text: str, signature_html: str | None, signature_text: str | None) -> tuple[str, str]:
    if signature_html:
        html += f"\n<div class=\"signature\">{signature_html}</div>"
    if signature_text or signature_html:
        text += "\n\n-- \n" + (signature_text or templates.html_to_text(signature_html or ""))
    return html, text


def compose(
    session: Session,
    *,
    contact: Contact,
    sender_id: uuid.UUID | None,
    draft: Draft,
    kind: str,
    automated: bool,
    message_id: str | None = None,
    enrollment: Enrollment | None = None,
    step: SequenceStep | None = None,
    variant: StepVariant | None = None,
    thread: list[EmailMessage] | None = None,
) -> EmailMessage:
    if not contact.email:
        raise ValidationFailed.on("contact_id", f"{contact.full_name} has no e-mail address")
    suppressed = suppression_of(session, contact.email)
    if suppressed is not None:
        raise ValidationFailed.on("contact_id", f"{suppressed.address} is on the suppression list ({suppressed.reason})")
    mailbox = mailbox_of(session, sender_id)
    sender = session.get(User, sender_id) if sender_id else None
    pk = uuid7()
    context = templates.merge_fields(
        session, contact, sender=sender, signature=mailbox.signature_text, unsubscribe_url=tracking.unsubscribe_url(pk)
    )
    rendered = templates.render(session, subject=draft.subject, body_html=draft.body_html, body_text=draft.body_text, context=context)
    subject = rendered.subject
    in_reply_to = references = None
    if thread:
        parent = thread[-1]
        in_reply_to = parent.message_id
        references = " ".join(m.message_id for m in thread)
        if not subject:
            first = thread[0].subject
            subject = first if first.lower().startswith("re:") else f"Re: {first}"
    if not subject:
        raise ValidationFailed.on("subject", "an e-mail needs a subject (only follow-ups in a thread may leave it empty)")
    html, text = _signed(rendered.html, rendered.text, mailbox.signature_html, mailbox.signature_text)
    html, text = tracking.decorate(html, text, message_pk=pk, track_opens=mailbox.track_opens, track_clicks=mailbox.track_clicks)
    now = clock.now()
    message = EmailMessage(
        id=pk,
        message_id=message_id or f"<{pk.hex}@{mailbox.from_address.rpartition('@')[2] or 'pipewise.local'}>",
        direction="outbound",
        kind=kind,
        status="queued",
        enrollment_id=enrollment.id if enrollment else None,
        step_id=step.id if step else None,
        variant_id=variant.id if variant else None,
        contact_id=contact.id,
        account_id=contact.account_id,
        sender_id=sender_id,
        from_address=mailbox.from_address,
        to_address=contact.email,
        subject=subject[:500],
        in_reply_to=in_reply_to,
        references=references,
        body_html=html,
        body_text=text,
        automated=automated,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    return message
