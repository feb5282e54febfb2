"""Reads for choosing a person or a team (routing targets): every active user and every team;
and the API tokens a settings page lists."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import ApiToken, Team, User


def active_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)))


def teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def api_tokens(session: Session, user_id: uuid.UUID | None) -> list[tuple[ApiToken, User]]:
    """Tokens with their users, newest first: one user's, or everyone's (``None``)."""
    stmt = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at.desc())
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return [(token, user) for token, user in session.execute(stmt.limit(500)).all()]
