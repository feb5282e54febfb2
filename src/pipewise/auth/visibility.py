"""Who may see and change which records.

Reps and managers see and change records owned by anyone in their teams (a rep's team;
a manager's own team plus the teams they manage); admins see everything. Unowned records
are a shared queue, open to all. ``open_read_access`` lets everyone read everything."""

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, Team, User
from pipewise.config import get_settings


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    role: str
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    email: str = ""
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.admin, Role.manager)

    @classmethod
    def for_user(cls, session: Session, user: User) -> "Actor":
        team_ids = set(session.scalars(select(Team.id).where(Team.manager_id == user.id)))
        if user.team_id is not None:
            team_ids.add(user.team_id)
        return cls(id=user.id, role=user.role, team_ids=frozenset(team_ids), email=user.email, name=user.name)


SYSTEM_ACTOR = Actor(id=uuid.UUID(int=0), role=Role.admin, name="Pipewise automation")


def owner_clause(owner_column: ColumnElement, actor: Actor, *, write: bool) -> ColumnElement | None:
    """A WHERE clause limiting ``owner_column`` to what ``actor`` may reach; None means all."""
    if actor.is_admin or (not write and get_settings().open_read_access):
        return None
    teammates = select(User.id).where(User.team_id.in_(actor.team_ids)) if actor.team_ids else None
    conditions = [owner_column.is_(None), owner_column == actor.id]
    if teammates is not None:
        conditions.append(owner_column.in_(teammates.scalar_subquery()))
    return or_(*conditions)


def can_reach_owner(session: Session, owner_id: uuid.UUID | None, actor: Actor, *, write: bool) -> bool:
    if owner_id is None or owner_id == actor.id or actor.is_admin:
        return True
    if not write and get_settings().open_read_access:
        return True
    team_id = session.scalar(select(User.team_id).where(User.id == owner_id))
    return team_id is not None and team_id in actor.team_ids
