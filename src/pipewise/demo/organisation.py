"""The demo's sales organisation: teams, each with a manager and reps."""

import random
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, Team, User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.demo.config import DEMO_EMAIL_DOMAIN
from pipewise.demo.generator import ascii_slug
from pipewise.demo.words import SALES_TEAMS, Country
from pipewise.people.service import hash_password, team_service, user_service

EUROPE = frozenset({"GB", "DE", "FR", "NL", "ES", "SE", "IE", "CH", "DK"})
ENTERPRISE_SIZE = 500


@dataclass
class SalesOrg:
    reps_by_team: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    actors: dict[uuid.UUID, Actor] = field(default_factory=dict)

    def actor(self, user_id: uuid.UUID | None) -> Actor:
        return SYSTEM_ACTOR if user_id is None else self.actors[user_id]

    def owner_for(self, rng: random.Random, country: Country, size: int) -> uuid.UUID:
        """Territories: Europe goes to EMEA, large companies elsewhere to Enterprise,
        the rest to Inside Sales."""
        if country.code in EUROPE:
            team = "EMEA"
        elif size >= ENTERPRISE_SIZE:
            team = "Enterprise"
        else:
            team = "Inside Sales"
        return rng.choice(self.reps_by_team[team])


def demo_email(name: str) -> str:
    return f"{ascii_slug(name, '.')}@{DEMO_EMAIL_DOMAIN}"


def _user(session: Session, *, name: str, role: Role, team: Team, password_hash: str) -> User:
    email = demo_email(name)
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None:
        return existing
    data = {"email": email, "name": name, "role": role.value, "team_id": team.id}
    user = user_service.create(session, data=data, actor=SYSTEM_ACTOR)
    # Everyone shares the demo password; hashing it once instead of per user saves seconds.
    user.password_hash = password_hash
    session.flush()
    return user


def _team(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = team_service.create(session, data={"name": name}, actor=SYSTEM_ACTOR)
        session.flush()
    return team


def build_sales_org(session: Session, *, password: str) -> SalesOrg:
    """Create (or find, on a second run) the demo teams and their people."""
    org = SalesOrg()
    password_hash = hash_password(password)
    for team_name, manager_name, rep_names in SALES_TEAMS:
        team = _team(session, team_name)
        manager = _user(session, name=manager_name, role=Role.manager, team=team, password_hash=password_hash)
        if team.manager_id != manager.id:
            team_service.update(session, team, data={"manager_id": manager.id}, actor=SYSTEM_ACTOR)
        reps = [_user(session, name=n, role=Role.rep, team=team, password_hash=password_hash) for n in rep_names]
        org.reps_by_team[team_name] = [r.id for r in reps]
        for user in (manager, *reps):
            org.actors[user.id] = Actor.for_user(session, user)
    session.flush()
    return org
