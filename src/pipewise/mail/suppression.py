"""The suppression list: an address on it gets nothing more from Pipewise, whoever
sends. Putting an address on it also cancels its queued mail and tells the senders
(sequences end the address's enrollments)."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Contact
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied
from pipewise.mail import clock, hooks
from pipewise.mail.mailboxes import checked_address
from pipewise.mail.models import EmailMessage, Suppression


def normalize_address(address: str) -> str:
    return address.strip().lower()


def suppression_of(session: Session, address: str | None) -> Suppression | None:
    if not address:
        return None
    return session.scalar(select(Suppression).where(Suppression.address == normalize_address(address)))


def refusal(session: Session, address: str | None, contact: Contact | None) -> str | None:
    """Why nothing may be sent to ``address`` (suppressed, or the contact withdrew
    consent), or None. Checked when a message is written and again before SMTP."""
    suppressed = suppression_of(session, address)
    if suppressed is not None:
        return f"{suppressed.address} is on the suppression list ({suppressed.reason})"
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
        row = session.scalar(select(Suppression).where(Suppression.address == normalize_address(address)))
        if row is None:
            raise NotFound(f"{address} is not suppressed")
        session.delete(row)


suppression_service = SuppressionService()
