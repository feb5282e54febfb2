"""Writing a sequence's e-mail: merge fields, signature, threading and a stable
Message-ID, handed to the mail package (``mail.compose.queue``), which applies the
suppression list, consent and tracking, writes the ledger row and delivers it."""

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.errors import ValidationFailed
from pipewise.mail import compose as mail
from pipewise.mail.mailboxes import mailbox_of
from pipewise.mail.tracking import unsubscribe_url
from pipewise.sequences import templates
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
    immediately: bool,
    message_id: str | None = None,
    enrollment: Enrollment | None = None,
    step: SequenceStep | None = None,
    variant: StepVariant | None = None,
    thread: list[EmailMessage] | None = None,
) -> EmailMessage:
    if not contact.email:
        raise ValidationFailed.on("contact_id", f"{contact.full_name} has no e-mail address")
    letter = mail.Letter(
        to_address=contact.email, subject="", text="", kind=kind, automated=automated, contact=contact, sender_id=sender_id,
        tracked=True, message_id=message_id, enrollment_id=enrollment.id if enrollment else None,
        step_id=step.id if step else None, variant_id=variant.id if variant else None,
        mentions_pricing=bool(variant and variant.mentions_pricing),
    )
    mail.check(session, letter)
    mailbox = mailbox_of(session, sender_id)
    sender = session.get(User, sender_id) if sender_id else None
    context = templates.merge_fields(
        session, contact, sender=sender, signature=mailbox.signature_text, unsubscribe_url=unsubscribe_url(letter.pk)
    )
    rendered = templates.render(session, subject=draft.subject, body_html=draft.body_html, body_text=draft.body_text, context=context)
    subject = rendered.subject
    if thread:
        letter.in_reply_to = thread[-1].message_id
        letter.references = " ".join(m.message_id for m in thread)
        if not subject:
            first = thread[0].subject
            subject = first if first.lower().startswith("re:") else f"Re: {first}"
    if not subject:
        raise ValidationFailed.on("subject", "an e-mail needs a subject (only follow-ups in a thread may leave it empty)")
    letter.subject = subject
    letter.html, letter.text = _signed(rendered.html, rendered.text, mailbox.signature_html, mailbox.signature_text)
    return mail.queue(session, letter, immediately=immediately)
