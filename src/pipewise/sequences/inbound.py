"""Inbound mail: replies, out-of-office auto-replies and delivery status notifications,
from the raw-MIME endpoint or the IMAP poller.

A reply is matched to the e-mail it answers by In-Reply-To / References (our stable
Message-IDs), else by the sender's address; it exits the sequence (per its rules),
pauses colleagues at the same account, and gives the owner a task. An auto-reply only
delays. A DSN reporting a permanent failure is a hard bounce."""

import email
import email.policy
import hashlib
import imaplib
import logging
import re
import socket
from dataclasses import dataclass
from email.message import EmailMessage as Mime
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise import netguard
from pipewise.crm.models import Contact
from pipewise.db.base import uuid7
from pipewise.db.session import session_scope
from pipewise.errors import NotFound
from pipewise.mail import consent, delivery, secrets
from pipewise.mail.events import emit
from pipewise.meetings import replies as meeting_replies
from pipewise.mail.models import EmailMessage, Mailbox
from pipewise.mail.settings import get_mail_settings
from pipewise.mail.suppression import normalize_address
from pipewise.mail.tracking import UNSUBSCRIBE_SUBJECT
from pipewise.sequences import clock
from pipewise.sequences.decisions import decide, live_enrollments
from pipewise.sequences.events import add_task
from pipewise.sequences.templates import html_to_text

log = logging.getLogger("pipewise.mail")

AUTO_SUBJECT = re.compile(
    r"out of (the )?office|automatic reply|auto[- ]?reply|autoreply|away from (my|the) (desk|office)|on vacation|"
    r"abwesenheit|absence|r[ée]ponse automatique",
    re.IGNORECASE,
)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Outcome:
    kind: str  # reply | auto_reply | bounce | delivered | delayed | duplicate | unmatched
    message_id: str
    contact_id: object | None
    detail: str


def parse(raw: bytes) -> Mime:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def is_auto_reply(msg: Mime) -> bool:
    auto_submitted = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond") or msg.get("X-Auto-Response-Suppress"):
        return True
    if str(msg.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    return bool(AUTO_SUBJECT.search(str(msg.get("Subject", ""))))


def is_dsn(msg: Mime) -> bool:
    return msg.get_content_type() == "multipart/report" and msg.get_param("report-type", "").lower() == "delivery-status"


def _ids(*headers: object) -> list[str]:
    found: list[str] = []
    for header in headers:
        found.extend(MESSAGE_ID.findall(str(header or "")))
    return found


def _body_text(msg: Mime) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def _outbound(session: Session, ids: list[str]) -> EmailMessage | None:
    if not ids:
        return None
    rows = session.scalars(select(EmailMessage).where(EmailMessage.message_id.in_(ids), EmailMessage.direction == "outbound"))
    by_id = {m.message_id: m for m in rows}
    for candidate in reversed(ids):  # In-Reply-To first, then the newest reference
        if candidate in by_id:
            return by_id[candidate]
    return None


def _latest_outbound_to(session: Session, address: str) -> EmailMessage | None:
    return session.scalar(
        select(EmailMessage)
        .where(EmailMessage.to_address == address, EmailMessage.direction == "outbound", EmailMessage.status.in_(("sent", "committing")))
        .order_by(EmailMessage.created_at.desc())
        .limit(1)
    )


def process(session: Session, raw: bytes) -> Outcome:
    msg = parse(raw)
    message_id = (_ids(msg.get("Message-ID")) or [f"<inbound.{hashlib.sha256(raw).hexdigest()[:32]}@pipewise.local>"])[0]
    if session.scalar(select(EmailMessage.id).where(EmailMessage.message_id == message_id)) is not None:
        return Outcome("duplicate", message_id, None, "this message was already processed")
    if is_dsn(msg):
        return _process_dsn(session, msg, message_id)
    unsubscribed = _unsubscribe_request(session, msg)
    if unsubscribed is not None:
        return Outcome("unsubscribe", message_id, unsubscribed.contact_id, f"{unsubscribed.to_address} unsubscribed by e-mail")
    answered = meeting_replies.take(session, msg)
    if answered is not None:
        return Outcome("calendar_reply", message_id, None, answered)
    sender = normalize_address(parseaddr(str(msg.get("From", "")))[1])
    parent = _outbound(session, _ids(msg.get("References")) + _ids(msg.get("In-Reply-To")))
    contact = session.get(Contact, parent.contact_id) if parent and parent.contact_id else None
    if contact is None and sender:
        contact = session.scalar(select(Contact).where(Contact.email == sender).order_by(Contact.created_at).limit(1))
        parent = parent or _latest_outbound_to(session, sender)
    kind = "auto_reply" if is_auto_reply(msg) else "reply"
    row = EmailMessage(
        id=uuid7(),
        message_id=message_id,
        direction="inbound",
        kind=kind if contact else "other",
        status="received",
        enrollment_id=parent.enrollment_id if parent else None,
        step_id=parent.step_id if parent else None,
        variant_id=parent.variant_id if parent else None,
        contact_id=contact.id if contact else None,
        account_id=contact.account_id if contact else None,
        sender_id=parent.sender_id if parent else (contact.owner_id if contact else None),
        parent_id=parent.id if parent else None,
        from_address=sender or "unknown",
        to_address=normalize_address(parseaddr(str(msg.get("To", "")))[1]) or "unknown",
        subject=str(msg.get("Subject", ""))[:500],
        in_reply_to=(_ids(msg.get("In-Reply-To")) or [None])[0],
        references=" ".join(_ids(msg.get("References"))) or None,
        body_text=_body_text(msg)[:100_000],
        automated=False,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(row)
    if contact is None:
        return Outcome("unmatched", message_id, None, f"no contact has the address {sender or '(none)'}")
    if kind == "auto_reply":
        for enrollment in live_enrollments(session, contact_ids={contact.id}):
            decide(session, enrollment, "held", "out_of_office", f"auto-reply from {sender}: “{row.subject}”; the next e-mail waits")
        return Outcome("auto_reply", message_id, contact.id, "out-of-office reply: the sequence is delayed, not stopped")
    _reply(session, row, parent, contact)
    return Outcome("reply", message_id, contact.id, f"reply from {contact.full_name}")


def _unsubscribe_request(session: Session, msg: Mime) -> EmailMessage | None:
    """A message to the List-Unsubscribe mailto: (its subject carries the signed token)."""
    subject = str(msg.get("Subject", "")).strip()
    if not subject.lower().startswith(UNSUBSCRIBE_SUBJECT):
        return None
    try:
        return consent.unsubscribe(session, subject[len(UNSUBSCRIBE_SUBJECT):].strip(), via="e-mail")
    except NotFound:
        return None


def _reply(session: Session, row: EmailMessage, parent: EmailMessage | None, contact: Contact) -> None:
    """Record the reply and give the owner a task. The reply's activity reaches the
    sequences from the outbox (``handlers.on_activity``), which exits or pauses the
    enrollments once, after this commits; a step that comes due before then sees the
    reply in its own guard check."""
    if parent is not None and parent.replied_at is None:
        parent.replied_at = clock.now()
    emit(session, row, "replied", extra={"in_reply_to": parent.message_id if parent else None})
    add_task(
        session,
        title=f"Reply from {contact.full_name}: {row.subject or '(no subject)'}",
        notes=(row.body_text or "")[:5000],
        owner_id=contact.owner_id or row.sender_id,
        contact_id=contact.id,
        priority="high",
    )


def _status_blocks(msg: Mime) -> tuple[list[Mime], list[str]]:
    """The per-recipient blocks of a DSN and the Message-IDs of the reported message."""
    blocks: list[Mime] = []
    original_ids: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            blocks.extend(p for p in (payload if isinstance(payload, list) else []) if p.get("Action"))
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            original_ids += _ids(inner.get("Message-ID"))
        elif ctype == "text/rfc822-headers":
            original_ids += _ids(email.message_from_string(part.get_content(), policy=email.policy.default).get("Message-ID"))
    return blocks, original_ids


def _process_dsn(session: Session, msg: Mime, message_id: str) -> Outcome:
    blocks, original_ids = _status_blocks(msg)
    outcome = Outcome("unmatched", message_id, None, "a delivery report for no message we know")
    for block in blocks:
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip()
        recipient = normalize_address(str(block.get("Final-Recipient") or block.get("Original-Recipient") or "").rpartition(";")[2])
        sent = _outbound(session, original_ids) or (_latest_outbound_to(session, recipient) if recipient else None)
        if sent is None:
            continue
        diagnostic = str(block.get("Diagnostic-Code", "")).rpartition(";")[2].strip()
        if action == "failed" and status.startswith("5"):
            delivery.mark_bounced(session, sent, f"hard bounce {status}: {diagnostic or 'permanent failure'}")
            outcome = Outcome("bounce", message_id, sent.contact_id, f"hard bounce ({status}) for {sent.to_address}")
        elif action == "delivered" and sent.delivered_at is None:
            sent.delivered_at = clock.now()
            emit(session, sent, "delivered")
            outcome = Outcome("delivered", message_id, sent.contact_id, f"delivered to {sent.to_address}")
        else:
            outcome = Outcome("delayed", message_id, sent.contact_id, f"{action or 'report'} {status}: {diagnostic}".strip())
    session.add(
        EmailMessage(
            message_id=message_id, direction="inbound", kind="bounce", status="received",
            contact_id=outcome.contact_id, from_address=normalize_address(parseaddr(str(msg.get("From", "")))[1]) or "mailer-daemon",
            to_address="unknown", subject=str(msg.get("Subject", ""))[:500], automated=True,
            created_at=clock.now(), updated_at=clock.now(),
        )
    )
    return outcome


# -- IMAP polling --


@dataclass(frozen=True)
class ImapAccount:
    label: str
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str
    # A server a user typed into their mailbox (not the operator's): netguard applies.
    guarded: bool = False


def imap_accounts(session: Session) -> list[ImapAccount]:
    accounts = []
    settings = get_mail_settings()
    if settings.imap_host and settings.imap_username:
        accounts.append(ImapAccount("global", settings.imap_host, settings.imap_port, settings.imap_security,
                                    settings.imap_username, settings.imap_password or "", settings.imap_folder))
    for box in session.scalars(select(Mailbox).where(Mailbox.imap_host.is_not(None), Mailbox.imap_username.is_not(None))):
        accounts.append(ImapAccount(box.from_address, box.imap_host, box.imap_port or 993, box.imap_security,
                                    box.imap_username, _stored_password(box.imap_password), box.imap_folder, guarded=True))
    return accounts


def _stored_password(stored: str | None) -> str:
    try:
        return secrets.decrypt(stored) or ""
    except secrets.UnreadableSecret:
        return ""  # the login fails and the poll reports it for this account


class _GuardedIMAP4(imaplib.IMAP4):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        return netguard.connect(self.host, self.port, timeout)


class _GuardedIMAP4SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        return self.ssl_context.wrap_socket(netguard.connect(self.host, self.port, timeout), server_hostname=self.host)


def _connect(account: ImapAccount) -> imaplib.IMAP4:
    plain, implicit_tls = (_GuardedIMAP4, _GuardedIMAP4SSL) if account.guarded else (imaplib.IMAP4, imaplib.IMAP4_SSL)
    if account.security == "ssl":
        client: imaplib.IMAP4 = implicit_tls(account.host, account.port, timeout=30)
    else:
        client = plain(account.host, account.port, timeout=30)
        if account.security == "starttls":
            client.starttls()
    client.login(account.username, account.password)
    return client


def poll_account(account: ImapAccount) -> list[Outcome]:
    """Process every unseen message of one account; each is marked seen once stored."""
    outcomes = []
    client = _connect(account)
    try:
        client.select(account.folder)
        _status, data = client.uid("SEARCH", None, "UNSEEN")
        for uid in (data[0] or b"").split():
            _status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:
                continue
            with session_scope() as session:
                outcomes.append(process(session, raw))
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return outcomes


def poll_all() -> dict[str, list[Outcome] | str]:
    with session_scope(write=False) as session:
        accounts = imap_accounts(session)
    results: dict[str, list[Outcome] | str] = {}
    for account in accounts:
        try:
            results[account.label] = poll_account(account)
        except (OSError, imaplib.IMAP4.error) as exc:
            log.warning("IMAP poll of %s failed: %s", account.label, exc)
            results[account.label] = f"failed: {exc}"
    return results

