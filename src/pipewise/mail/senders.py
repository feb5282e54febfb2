"""Proving a From address. A user asks to send as an address; an admin's request is an
approval, anyone else's e-mails a signed link, valid for a limited time
(``PIPEWISE_SENDER_CONFIRMATION_HOURS``), to that address. Opening the link marks the
address verified for that user, who may then put it on their mailbox."""

import uuid

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.config import get_settings
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied, ValidationFailed
from pipewise.mail import compose
from pipewise.mail.mailboxes import approve, checked_address
from pipewise.mail.models import MailAddress
from pipewise.mail.settings import get_mail_settings

SALT = "pipewise.mail.sender-address"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=SALT)


def confirmation_url(row: MailAddress) -> str:
    token = _serializer().dumps({"r": str(row.id), "a": row.address})
    return get_mail_settings().public_url.rstrip("/") + f"/api/v1/mail-addresses/confirm/{token}"


class SenderAddressService:
    def all(self, session: Session, *, actor: Actor) -> list[MailAddress]:
        stmt = select(MailAddress).order_by(MailAddress.address)
        if not actor.is_admin:
            stmt = stmt.where(MailAddress.user_id == actor.id)
        return list(session.scalars(stmt))

    def request(self, session: Session, *, address: str, user_id: uuid.UUID | None, actor: Actor) -> MailAddress:
        """Approve (an admin) or send the confirmation link (anyone, for themselves)."""
        user_id = user_id or actor.id
        if user_id != actor.id and not actor.is_admin:
            raise PermissionDenied("only an admin may approve an address for another user")
        errors = ErrorCollector()
        normalized = checked_address(address, "address", errors)
        user = session.get(User, user_id)
        if user is None:
            errors.add("user_id", f"no user with id {user_id}")
        elif normalized and normalized == user.email.strip().lower():
            errors.add("address", "is the login address, which may always send")
        errors.raise_if_any()
        if actor.is_admin:
            return approve(session, user_id=user_id, address=normalized, actor=actor)
        row = session.scalar(select(MailAddress).where(MailAddress.user_id == user_id, MailAddress.address == normalized))
        if row is None:
            row = MailAddress(user_id=user_id, address=normalized, method="link")
            session.add(row)
            session.flush()
        if row.verified_at is None:
            link = confirmation_url(row)
            compose.queue(session, compose.Letter(
                to_address=normalized, subject="Confirm your sending address", kind="notice", automated=False,
                text=f"{user.name} asked to send e-mail from Pipewise as {normalized}.\n\n"
                     f"If that was you, confirm the address by opening this link:\n{link}\n\n"
                     "If it was not, ignore this message; nothing changes.",
            ), immediately=False)
        return row

    def confirm(self, session: Session, token: str) -> MailAddress:
        max_age = get_settings().sender_confirmation_hours * 3600
        try:
            payload = _serializer().loads(token, max_age=max_age)
        except SignatureExpired:
            raise ValidationFailed.on("token", "this confirmation link has expired; ask for a new one") from None
        except BadSignature:
            raise NotFound("this confirmation link is not valid") from None
        try:
            row = session.get(MailAddress, uuid.UUID(str(payload.get("r"))))
        except ValueError:
            row = None
        if row is None or row.address != payload.get("a"):
            raise NotFound("this confirmation link is not valid")
        if row.verified_at is None:
            approve(session, user_id=row.user_id, address=row.address, actor=None, method="link")
        return row

    def remove(self, session: Session, address_id: uuid.UUID, *, actor: Actor) -> None:
        row = session.get(MailAddress, address_id)
        if row is None or not (actor.is_admin or row.user_id == actor.id):
            raise NotFound(f"no sender address with id {address_id}")
        session.delete(row)


sender_address_service = SenderAddressService()
