"""The suppression list: an address on it gets nothing more from Pipewise, whoever
sends. Putting an address on it also cancels its queued mail and tells the senders
(sequences end the address's enrollments).

An erased person's address is kept only as a hash (``hashed_address``): the entry still
refuses every message to that address, and holds nothing that names them. Every check
matches the plain address and its hashed forms."""

import hashlib
import hmac
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied
from pipewise.mail import clock, hooks
from pipewise.mail.mailboxes import checked_address
from pipewise.mail.models import EmailMessage, Suppression


HASH_PREFIXES = ("hmac-sha256:", "sha256:")


def normalize_address(address: str) -> str:
    return address.strip().lower()


def is_hashed(stored: str) -> bool:
    return stored.startswith(HASH_PREFIXES)


def hashed_address(address: str) -> str:
    """The form an erased person's address is kept in: HMAC-SHA256 under the server's
    pepper (``PIPEWISE_SUPPRESSION_PEPPER``), or plain SHA-256 when none is set."""
    normalized = normalize_address(address).encode()
    pepper = get_settings().suppression_pepper
    if pepper:
        return HASH_PREFIXES[0] + hmac.new(pepper.encode(), normalized, hashlib.sha256).hexdigest()
    return HASH_PREFIXES[1] + hashlib.sha256(normalized).hexdigest()


def stored_forms(address: str) -> list[str]:
    """Every way ``address`` may be stored: itself, its hash, and its unpeppered hash (an
    entry made before a pepper was set)."""
    normalized = normalize_address(address)
    return list(dict.fromkeys((normalized, hashed_address(normalized), HASH_PREFIXES[1] + hashlib.sha256(normalized.encode()).hexdigest())))


def suppression_of(session: Session, address: str | None) -> Suppression | None:
    if not address:
        return None
    return session.scalar(select(Suppression).where(Suppression.address.in_(stored_forms(address))).limit(1))


def refusal(session: Session, address: str | None, contact: Contact | None) -> str | None:
    """Why nothing may be sent to ``address`` (suppressed, or the contact withdrew
    consent), or None. Checked when a message is written and again before SMTP."""
    suppressed = suppression_of(session, address)
    if suppressed is not None:
        who = "the address" if is_hashed(suppressed.address) else suppressed.address
        return f"{who} is on the suppression list ({suppressed.reason})"
    if contact is not None and contact.consent_state == "withdrawn":
        return f"{contact.full_name} withdrew consent to be contacted"
    return None


def suppress(session: Session, address: str, *, reason: str, detail: str | None = None, contact_id: uuid.UUID | None = None) -> Suppression:
    """Put ``address`` on the suppression list and stop everything queued for it."""
    address = normalize_address(address)
    row = suppression_of(session, address)
    if row is None:
        row = Suppression(address=address, reason=reason, detail=detail, contact_id=contact_id, created_at=clock.now())
        session.add(row)
        session.flush()
    session.execute(
        update(EmailMessage)
        .where(EmailMessage.to_address == address, EmailMessage.status == "queued")
        .values(status="cancelled", error=f"{address} is suppressed ({reason})")
    )
    contacts = set(session.scalars(select(Contact.id).where(Contact.email == address)))
    if contact_id:
        contacts.add(contact_id)
    hooks.suppressed(session, address, contacts, reason)
    return row


def suppress_hashed(session: Session, address: str, *, reason: str, contact_id: uuid.UUID | None = None) -> Suppression:
    """Keep ``address`` suppressed as its hash alone: a plain entry for it is replaced by
    the hashed one (which keeps the plain entry's reason). Nothing else is told: the
    caller is erasing the person and ends their queued mail and enrollments itself."""
    hashed = hashed_address(address)
    rows = list(session.scalars(select(Suppression).where(Suppression.address.in_(stored_forms(address)))))
    kept = next((row for row in rows if row.address == hashed), None)
    plain = next((row for row in rows if not is_hashed(row.address)), None)
    for row in rows:
        if row is not kept:
            session.delete(row)
    session.flush()
    if kept is None:
        kept = Suppression(address=hashed, reason=plain.reason if plain is not None else reason, created_at=clock.now())
        session.add(kept)
    kept.detail, kept.contact_id = None, contact_id
    session.flush()
    return kept


class SuppressionService:
    def all(self, session: Session, *, limit: int = 500) -> list[Suppression]:
        return list(session.scalars(select(Suppression).order_by(Suppression.created_at.desc()).limit(limit)))

    def add(self, session: Session, *, address: str, reason: str, detail: str | None, actor: Actor) -> Suppression:
        errors = ErrorCollector()
        normalized = checked_address(address, "address", errors)
        errors.raise_if_any()
        return suppress(session, normalized or address, reason=reason, detail=detail or f"added by {actor.name or actor.email}")

    def remove(self, session: Session, *, address: str, actor: Actor) -> None:
        if not actor.is_admin:
            raise PermissionDenied("only an admin may take an address off the suppression list")
        row = suppression_of(session, address)
        if row is None:
            raise NotFound(f"{address} is not suppressed")
        session.delete(row)


suppression_service = SuppressionService()
