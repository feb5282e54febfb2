"""Delivering queued e-mail exactly once across crashes, for every sender.

The ledger row is committed before any SMTP traffic and walks
queued → sending → committing → sent. ``sending`` is committed before connecting;
``committing`` is committed once the whole body is with the server but before the final
dot. A worker that dies in ``sending`` leaves nothing at the server (no dot, no message),
so the next attempt sends again; one that dies in ``committing`` has most likely sent the
dot, so the next attempt records the message as sent instead of sending it twice.

Delivery runs outside the worker's transaction (right after it commits, as after-commit
work of its unit of work), so a slow SMTP server never holds a database lock; a
``mail.deliver`` timer per message is the safety net that picks up whatever a crash left
behind. A request only queues: the worker sends."""

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise.crm.models import Contact
from pipewise.db.session import session_scope
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events import bus
from pipewise.events.models import ScheduledAction
from pipewise.mail import caps, clock, hooks, secrets
from pipewise.mail.events import emit
from pipewise.mail.mailboxes import mailbox_of
from pipewise.mail.models import EmailAttachment, EmailMessage
from pipewise.mail.settings import get_mail_settings
from pipewise.mail.suppression import refusal, suppress
from pipewise.mail.tracking import unsubscribe_mailto, unsubscribe_url
from pipewise.mail.transport import (
    DeliveryUncertain,
    OutgoingMail,
    PermanentFailure,
    TemporaryFailure,
    Transports,
    build_mime,
    smtp_config,
)
from pipewise.runs.retry import RetryPolicy

log = logging.getLogger("pipewise.mail")

DELIVER_ACTION = "mail.deliver"
FINAL_STATUSES = ("sent", "bounced", "failed", "cancelled")
# A refused or failed send is tried again after 1, 2, 4 … minutes (at most four hours), eight times in all.
SEND_RETRIES = RetryPolicy(first=timedelta(minutes=1), cap=timedelta(hours=4), limit=8)


@dataclass
class DeliverAfterCommit:
    """The messages a transaction queued for delivery right after it commits."""

    message_ids: list[uuid.UUID] = field(default_factory=list)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def lease() -> timedelta:
    return timedelta(seconds=get_mail_settings().send_lease_seconds)


def schedule_check(session: Session, message_id: uuid.UUID, at: datetime) -> None:
    bus.schedule(session, key=f"mail:{message_id}:{at.timestamp():.6f}", kind=DELIVER_ACTION, run_at=at, payload={"message_id": str(message_id)})


def enqueue(session: Session, message: EmailMessage, *, immediately: bool) -> None:
    """Arrange delivery of a queued message. ``immediately``: right after the caller's
    transaction commits (the worker); otherwise the next worker pass picks it up."""
    now = clock.now()
    schedule_check(session, message.id, now + lease() if immediately else now)
    if immediately:
        work = unit_of_work(session)
        pending = work.state(DeliverAfterCommit)
        if not pending.message_ids:
            work.after_commit(lambda: _deliver_all(pending.message_ids))
        pending.message_ids.append(message.id)


def _deliver_all(pending: list[uuid.UUID]) -> None:
    """Runs once the transaction has committed and its locks are released, never inside
    it (nor after a rollback: then nothing was queued after all)."""
    transports = Transports()
    try:
        for message_id in pending:
            try:
                deliver(message_id, transports=transports)
            except Exception:  # noqa: BLE001 - the mail.deliver timer retries whatever failed here
                log.exception("delivery of %s failed; its timer will retry", message_id)
    finally:
        transports.close()


def run_delivery_check(session: Session, action: ScheduledAction) -> None:
    message_id = uuid.UUID(action.payload["message_id"])
    message = session.get(EmailMessage, message_id)
    if message is None or message.status in FINAL_STATUSES:
        return
    enqueue(session, message, immediately=True)


def _blocked(session: Session, message: EmailMessage, now: datetime) -> str | None:
    """Last look before the SMTP transaction; returns why the message must not go."""
    contact = session.get(Contact, message.contact_id) if message.contact_id else None
    return refusal(session, message.to_address, contact) or hooks.last_look(session, message, now)


def _hold(message: EmailMessage, until: datetime, why: str) -> datetime:
    message.next_attempt_at, message.error = until, why
    return until


def _outgoing(session: Session, message: EmailMessage, now: datetime) -> OutgoingMail:
    mailbox = mailbox_of(session, message.sender_id)
    contact = session.get(Contact, message.contact_id) if message.contact_id else None
    unsubscribable = message.kind != "notice"
    return OutgoingMail(
        message_id=message.message_id,
        from_name=mailbox.from_name,
        from_address=message.from_address,
        # A workflow's e-mail goes to the address it names, as it named it.
        to_name=contact.full_name if contact and message.kind != "workflow" else "",
        to_address=message.to_address,
        subject=message.subject,
        html=message.body_html or "",
        text=message.body_text or "",
        sent_at=now,
        in_reply_to=message.in_reply_to,
        references=(message.references or "").split(),
        unsubscribe_url=unsubscribe_url(message.id) if unsubscribable else None,
        unsubscribe_mailto=unsubscribe_mailto(message.id, message.from_address) if unsubscribable else None,
        idempotency_key=message.send_key,
        attachments=[
            (a.filename, a.content_type, a.content)
            for a in session.scalars(select(EmailAttachment).where(EmailAttachment.message_id == message.id).order_by(EmailAttachment.id))
        ],
        ical=message.ical,
    )


def _claim(message_id: uuid.UUID, me: str) -> tuple[OutgoingMail, bytes, object, str] | datetime | None:
    """Claim the message for sending. Returns what to send, or when to look again, or None."""
    with session_scope() as session:
        message = session.get(EmailMessage, message_id, with_for_update=True)
        if message is None or message.status in FINAL_STATUSES:
            return None
        now = clock.now()
        if message.status == "queued" and message.next_attempt_at and message.next_attempt_at > now:
            return message.next_attempt_at
        if message.status in ("sending", "committing") and message.claimed_at and message.claimed_at > now - lease():
            return message.claimed_at + lease()
        if message.status == "committing":
            finalize_sent(session, message, note="recorded as sent after a worker stopped right after the final dot")
            return None
        reason = _blocked(session, message, now)
        if reason is not None:
            message.status = "cancelled"
            message.error = reason
            hooks.refused(session, message, reason)
            return None
        mailbox = mailbox_of(session, message.sender_id)
        room_at = caps.held_by_cap(session, message, mailbox.daily_cap, now)
        if room_at is not None:
            schedule_check(session, message.id, room_at)
            return _hold(message, room_at, f"{message.from_address} reached its cap of {mailbox.daily_cap} automated e-mails in 24 hours")
        message.attempts += 1
        try:
            password = secrets.decrypt(mailbox.smtp_password)
        except secrets.UnreadableSecret as exc:
            return _record_failure(session, message, f"the SMTP password of {mailbox.from_address}: {exc}", permanent=False)
        config = smtp_config(mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security, mailbox.smtp_username, password)
        message.status, message.claimed_at, message.claimed_by = "sending", now, me
        mail = _outgoing(session, message, now)
        return mail, build_mime(mail), config, message.from_address


def _mark_committing(message_id: uuid.UUID, me: str) -> bool:
    with session_scope() as session:
        result = session.execute(
            update(EmailMessage)
            .where(EmailMessage.id == message_id, EmailMessage.status == "sending", EmailMessage.claimed_by == me)
            .values(status="committing")
        )
        return result.rowcount == 1


def deliver(message_id: uuid.UUID, *, transports: Transports | None = None) -> datetime | None:
    """Send one queued message. Returns when it should be looked at again, if ever.
    ``transports``: connections a batch keeps open from one message to the next."""
    if transports is None:
        transports = Transports()
        try:
            return deliver(message_id, transports=transports)
        finally:
            transports.close()
    me = worker_id()
    claimed = _claim(message_id, me)
    if not isinstance(claimed, tuple):
        return claimed
    mail, data, config, envelope_from = claimed
    transport = transports.for_config(config)  # type: ignore[arg-type]
    note = None
    try:
        transport.stage(envelope_from, mail.to_address, data, name=mail.message_id)
        if not _mark_committing(message_id, me):
            transport.abort()
            return None  # another worker took the message over; let it finish
        transport.commit()
    except TemporaryFailure as exc:
        return _after_failure(message_id, str(exc), permanent=False)
    except PermanentFailure as exc:
        return _after_failure(message_id, str(exc), permanent=True)
    except DeliveryUncertain as exc:
        note = f"sent; the server did not confirm ({exc})"
    except BaseException:
        transport.abort()
        raise
    with session_scope() as session:
        message = session.get(EmailMessage, message_id, with_for_update=True)
        if message is not None and message.status == "committing":
            finalize_sent(session, message, note=note)
    return None


def finalize_sent(session: Session, message: EmailMessage, *, note: str | None = None) -> None:
    message.status = "sent"
    message.sent_at = clock.now()
    message.error = note
    message.claimed_by = None
    emit(session, message, "sent")
    hooks.sent(session, message)


def _after_failure(message_id: uuid.UUID, error: str, *, permanent: bool) -> datetime | None:
    with session_scope() as session:
        message = session.get(EmailMessage, message_id, with_for_update=True)
        if message is None or message.status in FINAL_STATUSES:
            return None
        return _record_failure(session, message, error, permanent=permanent)


def _record_failure(session: Session, message: EmailMessage, error: str, *, permanent: bool) -> datetime | None:
    message.error = error
    message.claimed_by = None
    if permanent:
        mark_bounced(session, message, f"the server refused it: {error}")
        return None
    if SEND_RETRIES.gives_up(message.attempts):
        message.status = "failed"
        hooks.refused(session, message, f"gave up after {message.attempts} attempts: {error}")
        return None
    message.status = "queued"
    message.next_attempt_at = clock.now() + SEND_RETRIES.delay(message.attempts)
    schedule_check(session, message.id, message.next_attempt_at)
    log.info("temporary failure sending %s (%s); retry at %s", message.message_id, error, message.next_attempt_at)
    return message.next_attempt_at


def mark_bounced(session: Session, message: EmailMessage, detail: str) -> None:
    """A hard bounce: the message is marked, the address suppressed, the sequence left."""
    if message.bounced_at is not None:
        return
    message.status = "bounced"
    message.bounced_at = clock.now()
    emit(session, message, "bounced", detail=detail)
    suppress(session, message.to_address, reason="bounce", detail=detail, contact_id=message.contact_id)
