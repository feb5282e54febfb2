"""Mailboxes: who a user sends as, through which server, with which cap and window.

A From address must be one the user may send as: their login address, or one in
``mail_address`` that an admin approved or that the user proved with the confirmation
link (mail/senders.py). Saving a mailbox with any other From is refused (422). SMTP and
IMAP passwords are stored encrypted and never returned."""

import ipaddress
import re
import uuid
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise import netguard
from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow
from pipewise.db.session import cached_lookup
from pipewise.errors import ErrorCollector, PermissionDenied
from pipewise.mail import secrets
from pipewise.mail.models import MailAddress, Mailbox

PASSWORD_FIELDS = ("smtp_password", "imap_password")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def checked_address(value: str, field_name: str, errors: ErrorCollector) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors.add(field_name, str(exc))
        return None


def _check_host(host: str) -> str | None:
    """Whether a mailbox may use ``host`` for SMTP or IMAP: a DNS name or an IP address, not one of this
    machine's or an internal network's (unless the operator allows it). Names are checked
    again after resolution each time the server is connected to."""
    candidate = host.strip().strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        labels = candidate.rstrip(".").split(".")
        if len(candidate) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
            return "is not a host name or IP address"
    return netguard.host_problem(candidate)


def mailbox_of(session: Session, user_id: uuid.UUID | None) -> Mailbox:
    """The user's mailbox (looked up once per transaction); a user who never set one up
    sends with the defaults, as their login address."""
    return cached_lookup(session, Mailbox, user_id, lambda: _load_mailbox(session, user_id))


def _load_mailbox(session: Session, user_id: uuid.UUID | None) -> Mailbox:
    mailbox = session.scalar(select(Mailbox).where(Mailbox.user_id == user_id)) if user_id else None
    if mailbox is not None:
        return mailbox
    user = session.get(User, user_id) if user_id else None
    return Mailbox(
        user_id=user_id,
        from_name=user.name if user else "Pipewise",
        from_address=user.email if user else "pipewise@localhost",
        daily_cap=200,
        send_days=[0, 1, 2, 3, 4],
        send_start_hour=9,
        send_end_hour=17,
        track_opens=True,
        track_clicks=True,
        smtp_security="starttls",
    )


def may_send_as(session: Session, user: User, address: str) -> bool:
    address = address.strip().lower()
    if address == user.email.strip().lower():
        return True
    return session.scalar(
        select(MailAddress.id).where(MailAddress.user_id == user.id, MailAddress.address == address, MailAddress.verified_at.is_not(None))
    ) is not None


def approve(session: Session, *, user_id: uuid.UUID, address: str, actor: Actor | None, method: str = "admin") -> MailAddress:
    """Record ``address`` as verified for the user (an admin's approval or a proven link)."""
    row = session.scalar(select(MailAddress).where(MailAddress.user_id == user_id, MailAddress.address == address))
    if row is None:
        row = MailAddress(user_id=user_id, address=address, method=method)
        session.add(row)
    row.method, row.verified_at = method, utcnow()
    row.approved_by = actor.id if actor is not None and method == "admin" else None
    session.flush()
    return row


class MailboxService:
    def get_for(self, session: Session, user_id: uuid.UUID) -> Mailbox | None:
        return session.scalar(select(Mailbox).where(Mailbox.user_id == user_id))

    def all(self, session: Session, *, actor: Actor) -> list[Mailbox]:
        stmt = select(Mailbox).order_by(Mailbox.from_address)
        if not actor.is_admin:
            stmt = stmt.where(Mailbox.user_id == actor.id)
        return list(session.scalars(stmt))

    def _check(self, session: Session, user: User | None, data: dict[str, Any], actor: Actor, errors: ErrorCollector) -> None:
        if data.get("from_address"):
            data["from_address"] = checked_address(data["from_address"], "from_address", errors)
            address = data["from_address"]
            if address and user is not None and not may_send_as(session, user, address) and not actor.is_admin:
                errors.add(
                    "from_address",
                    f"{address} is not verified for {user.name}: send as your login address, ask an admin to approve it, "
                    "or confirm it with the link that POST /api/v1/mail-addresses e-mails to it",
                )
        start, end = data.get("send_start_hour"), data.get("send_end_hour")
        if start is not None and end is not None and start >= end:
            errors.add("send_end_hour", "must be after send_start_hour")
        if "send_days" in data and not data["send_days"]:
            errors.add("send_days", "pick at least one day")
        if data.get("smtp_username") and not (data.get("smtp_host")):
            errors.add("smtp_host", "a login needs the server it belongs to")
        for host_field in ("smtp_host", "imap_host"):
            if data.get(host_field):
                problem = _check_host(data[host_field])
                if problem:
                    errors.add(host_field, problem)

    def save(self, session: Session, *, data: dict[str, Any], actor: Actor) -> Mailbox:
        """Create or change a user's mailbox (one per user); only admins set up others',
        and an admin who sets a From address approves it for that user."""
        user_id = data.pop("user_id", None) or actor.id
        if user_id != actor.id and not actor.is_admin:
            raise PermissionDenied("only an admin may set up another user's mailbox")
        user = session.get(User, user_id)
        errors = ErrorCollector()
        if user is None:
            errors.add("user_id", f"no user with id {user_id}")
        self._check(session, user, data, actor, errors)
        errors.raise_if_any()
        if data.get("from_address") and not may_send_as(session, user, data["from_address"]):
            approve(session, user_id=user.id, address=data["from_address"], actor=actor)
        mailbox = self.get_for(session, user_id)
        if mailbox is None:
            mailbox = Mailbox(user_id=user_id, from_name=user.name, from_address=user.email)
            session.add(mailbox)
        for key, value in data.items():
            if key in PASSWORD_FIELDS:
                value = secrets.encrypt(value)
            if value is not None or key.startswith(("smtp_", "imap_", "signature")):
                setattr(mailbox, key, value)
        session.flush()
        return mailbox


mailbox_service = MailboxService()
