"""Invitations and password resets: a signed, expiring link that lets one person set their
password once. Nothing is stored: the link carries the user's id and a fingerprint of
their current password hash, so setting a password (or any later reset) spends every
link sent before it. The letter is written here; the caller sends it through the mail path."""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.config import get_settings
from pipewise.errors import PipewiseError
from pipewise.people.service import user_service

INVITE = "invite"
RESET = "reset"
MAX_AGE = {INVITE: 7 * 24 * 3600, RESET: 24 * 3600}


class LinkNotValid(PipewiseError):
    status = 410
    title = "This link no longer works"


@dataclass(frozen=True)
class Letter:
    to_address: str
    subject: str
    text: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="pipewise.people.password-link")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:16]


def is_invited(user: User) -> bool:
    """Invited and not yet arrived: no password, never logged in."""
    return user.password_hash is None and user.last_login_at is None


def invite(session: Session, data: dict[str, Any], *, actor: Actor) -> User:
    """Add a person without a password; they choose one from the invitation link."""
    return user_service.create(session, data={k: v for k, v in data.items() if k != "password"}, actor=actor)


def link_token(user: User, purpose: str) -> str:
    return str(_serializer().dumps({"uid": str(user.id), "p": purpose, "fp": _fingerprint(user)}))


def letter(user: User, purpose: str, *, site: str, sent_by: str) -> Letter:
    link = f"{site.rstrip('/')}/welcome/{link_token(user, purpose)}"
    days = MAX_AGE[purpose] // (24 * 3600)
    if purpose == INVITE:
        subject = f"{sent_by} invited you to Pipewise"
        opening = f"{sent_by} invited you to Pipewise. Choose your password to log in as {user.email}:"
    else:
        subject = "Set a new Pipewise password"
        opening = f"{sent_by} asked for a new password for {user.email}. Choose it here:"
    valid = f"The link works once, for {days} day{'s' if days != 1 else ''}."
    return Letter(user.email, subject, f"Hello {user.name},\n\n{opening}\n{link}\n\n{valid}")


def user_for(session: Session, token: str) -> tuple[User, str]:
    """The user a link belongs to and what it is for, or LinkNotValid."""
    try:
        data = _serializer().loads(token, max_age=max(MAX_AGE.values()))
        purpose = data["p"]
        _serializer().loads(token, max_age=MAX_AGE[purpose])
        user = session.get(User, uuid.UUID(data["uid"]))
    except SignatureExpired:
        raise LinkNotValid("the link has expired; ask an admin to send a new one") from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkNotValid("the link is not one Pipewise sent") from None
    if user is None or not user.is_active or data.get("fp") != _fingerprint(user):
        raise LinkNotValid("the link was used already or replaced by a newer one; ask an admin for a new one")
    return user, purpose


def accept(session: Session, token: str, password: str) -> User:
    """Set the password the link allows (ending every open session of the user)."""
    user, _purpose = user_for(session, token)
    user_service.set_password(session, user, password)
    return user
