"""Reads for choosing a person or a team (routing targets): every active user and every team."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User


def active_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)))


def teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))
