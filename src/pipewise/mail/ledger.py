"""Reading the ledger of sent mail: a user sees the messages they or their team sent;
an admin sees all. Mail sent by the installation itself (no sender) is for admins."""

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.errors import NotFound
from pipewise.mail.models import EmailMessage


def _senders(actor: Actor) -> ColumnElement[bool] | None:
    """Which senders' mail ``actor`` may read (None: everyone's)."""
    if actor.is_admin:
        return None
    clause = EmailMessage.sender_id == actor.id
    if actor.team_ids:
        clause = clause | EmailMessage.sender_id.in_(select(User.id).where(User.team_id.in_(actor.team_ids)))
    return clause


def outbound(session: Session, *, actor: Actor, status: str | None = None, limit: int = 100) -> list[EmailMessage]:
    stmt = select(EmailMessage).where(EmailMessage.direction == "outbound").order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
    clause = _senders(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if status:
        stmt = stmt.where(EmailMessage.status == status)
    return list(session.scalars(stmt.limit(limit)))


def get(session: Session, message_id: uuid.UUID, *, actor: Actor) -> EmailMessage:
    message = session.get(EmailMessage, message_id)
    if message is None or message.direction != "outbound" or not may_read(session, actor, message):
        raise NotFound(f"no sent message with id {message_id}")
    return message


def by_message_id(session: Session, message_id: str) -> EmailMessage | None:
    return session.scalar(select(EmailMessage).where(EmailMessage.message_id == message_id.strip()))


def may_read(session: Session, actor: Actor, message: EmailMessage) -> bool:
    if actor.is_admin or message.sender_id == actor.id:
        return True
    if message.sender_id is None or not actor.team_ids:
        return False
    return session.scalar(select(User.team_id).where(User.id == message.sender_id)) in actor.team_ids
