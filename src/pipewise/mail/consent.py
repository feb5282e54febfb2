"""What recipients do with our mail: opens, clicks, and unsubscribes (link or RFC 8058
one-click POST), honoured at once: the address is suppressed, queued mail cancelled and
every enrollment of the contact ended in the same transaction (through the suppression
list's hooks). The same token works from the link, the one-click POST and a reply to the
List-Unsubscribe mailto: address."""

import uuid

from sqlalchemy.orm import Session

from pipewise.errors import NotFound
from pipewise.mail import clock, tracking
from pipewise.mail.events import emit
from pipewise.mail.models import EmailMessage
from pipewise.mail.suppression import suppress


def _message(session: Session, purpose: str, token: str) -> tuple[EmailMessage, dict]:
    payload = tracking.unsign(purpose, token)
    if payload is None:
        raise NotFound("this link is not valid")
    try:
        message = session.get(EmailMessage, uuid.UUID(str(payload.get("m"))))
    except ValueError:
        message = None
    if message is None:
        raise NotFound("this link is not valid")
    return message, payload


def record_open(session: Session, token: str) -> None:
    try:
        message, _payload = _message(session, "open", token)
    except NotFound:
        return  # a pixel never fails; it just counts nothing
    message.open_count += 1
    if message.opened_at is None:
        message.opened_at = clock.now()
        emit(session, message, "opened")


def record_click(session: Session, token: str) -> str:
    """Count the click and return the link's real target (only ever the signed one)."""
    message, payload = _message(session, "click", token)
    target = str(payload.get("u", ""))
    if not target.startswith(("http://", "https://")):
        raise NotFound("this link is not valid")
    message.click_count += 1
    if message.clicked_at is None:
        message.clicked_at = clock.now()
        emit(session, message, "clicked", extra={"url": target})
    return target


def unsubscribe(session: Session, token: str, *, via: str) -> EmailMessage:
    message, _payload = _message(session, "unsubscribe", token)
    if message.unsubscribed_at is None:
        message.unsubscribed_at = clock.now()
        emit(session, message, "unsubscribed", detail=f"unsubscribed via {via}")
    suppress(session, message.to_address, reason="unsubscribe", detail=f"via {via}", contact_id=message.contact_id)
    return message
