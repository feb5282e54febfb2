"""People and reference data every benchmark starts from, made through the real services:
an admin, reps in teams, their API tokens, and a ``tier`` custom field on contacts."""

import uuid
from dataclasses import dataclass, field

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.db.session import session_scope
from pipewise.people.service import team_service, token_service, user_service
from pipewise.records.field_definitions import custom_field_service

TIERS = ("bronze", "silver", "gold", "platinum")


@dataclass
class Person:
    id: uuid.UUID
    role: str
    team_id: uuid.UUID | None
    token: str
    actor: Actor


@dataclass
class People:
    admin: Person
    reps: list[Person] = field(default_factory=list)

    @property
    def owner_ids(self) -> list[uuid.UUID]:
        return [r.id for r in self.reps]


def seed_people(*, teams: int = 5, reps_per_team: int = 4) -> People:
    with session_scope() as session:
        custom_field_service.create(
            session,
            data={"record_type": "contact", "key": "tier", "label": "Tier", "field_type": "choice", "choices": list(TIERS)},
            actor=SYSTEM_ACTOR,
        )

        def person(user: User) -> Person:
            session.flush()
            _token, secret = token_service.create(session, user=user, name="bench")
            return Person(user.id, user.role, user.team_id, secret, Actor.for_user(session, user))

        admin = person(
            user_service.create(session, data={"email": "admin@bench.example", "name": "Admin", "role": "admin"}, actor=SYSTEM_ACTOR)
        )
        people = People(admin)
        for t in range(teams):
            team = team_service.create(session, data={"name": f"Team {t}"}, actor=SYSTEM_ACTOR)
            session.flush()
            for r in range(reps_per_team):
                user = user_service.create(
                    session,
                    data={"email": f"rep{t}-{r}@bench.example", "name": f"Rep {t}-{r}", "role": "rep", "team_id": team.id},
                    actor=SYSTEM_ACTOR,
                )
                people.reps.append(person(user))
    return people


def contact_data(n: int, owner_id: uuid.UUID | None = None) -> dict:
    """The body of the n-th benchmark contact, as a client would send it."""
    data = {
        "first_name": f"Ada{n}",
        "last_name": f"Lovelace{n}",
        "email": f"ada.{n}@example{n % 97}.com",
        "phone": f"+1 415 555 {n % 10000:04d}",
        "title": "Head of Operations",
        "lifecycle_stage": ("lead", "mql", "sql", "customer")[n % 4],
        "custom": {"tier": TIERS[n % len(TIERS)]},
    }
    if owner_id is not None:
        data["owner_id"] = str(owner_id)
    return data


def lead_data(n: int) -> dict:
    """The body of the n-th benchmark lead, as a web form or an integration would send it."""
    return {
        "first_name": f"Grace{n}",
        "last_name": f"Hopper{n}",
        "email": f"grace.{n}@company{n % 997}.com",
        "company": f"Company {n % 997}",
        "title": ("VP Sales", "Head of Operations", "CTO", "Analyst")[n % 4],
        "source": ("web", "event", "referral")[n % 3],
        "country": "US",
    }
