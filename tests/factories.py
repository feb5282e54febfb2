"""Factories for test data, built through the real services."""

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.crm.service import account_service, activity_service, contact_service, task_service
from pipewise.deals.defaults import StageTemplate, create_pipeline
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import deal_service
from pipewise.leads.service import lead_service
from pipewise.people.service import team_service, token_service, user_service

_seq = itertools.count(1)

# A compact pipeline for tests: four open stages (the last two with entry criteria), won, lost.
TEST_STAGES = (
    StageTemplate("Qualification", 10),
    StageTemplate("Demo", 30),
    StageTemplate("Proposal", 60, required_fields=("amount",)),
    StageTemplate("Negotiation", 80, required_fields=("amount", "close_date")),
    StageTemplate("Closed won", 100, "won", ("amount",)),
    StageTemplate("Closed lost", 0, "lost", ("lost_reason",)),
)


class Factory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def team(self, name: str | None = None) -> Team:
        team = team_service.create(self.session, data={"name": name or f"Team {next(_seq)}"}, actor=SYSTEM_ACTOR)
        self.session.flush()
        return team

    def user(self, *, role: str = "rep", team: Team | None = None, password: str = "correct-horse", **kw: Any) -> User:
        n = next(_seq)
        data = {"email": f"user{n}@example.com", "name": f"User {n}", "role": role, "password": password}
        if team is not None:
            data["team_id"] = team.id
        data.update(kw)
        user = user_service.create(self.session, data=data, actor=SYSTEM_ACTOR)
        self.session.flush()
        return user

    def actor(self, user: User) -> Actor:
        return Actor.for_user(self.session, user)

    def token(self, user: User) -> str:
        _token, secret = token_service.create(self.session, user=user)
        self.session.commit()
        return secret

    def headers(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def account(self, owner: User | None = None, **kw: Any) -> Any:
        n = next(_seq)
        data = {"name": f"Account {n}", "domain": f"account{n}.example", **kw}
        return self._create(account_service, owner, data)

    def contact(self, owner: User | None = None, **kw: Any) -> Any:
        n = next(_seq)
        data = {"first_name": "Ada", "last_name": f"Person{n}", "email": f"ada{n}@example.org", **kw}
        return self._create(contact_service, owner, data)

    def lead(self, owner: User | None = None, **kw: Any) -> Any:
        n = next(_seq)
        data = {"first_name": "Lee", "last_name": f"Lead{n}", "email": f"lee{n}@lead{n}.example", "company": f"Co {n}", **kw}
        return self._create(lead_service, owner, data)

    def pipeline(self, name: str = "Sales") -> tuple[Pipeline, list[Stage]]:
        return create_pipeline(self.session, name=name, stages=TEST_STAGES)

    def deal(self, owner: User | None = None, **kw: Any) -> Any:
        data = {"name": f"Deal {next(_seq)}", "amount": Decimal("1000.00"), **kw}
        return self._create(deal_service, owner, data)

    def activity(self, owner: User | None = None, **kw: Any) -> Any:
        return self._create(activity_service, owner, {"type": "note", "subject": "Note", **kw})

    def task(self, owner: User | None = None, **kw: Any) -> Any:
        return self._create(task_service, owner, {"title": f"Task {next(_seq)}", **kw})

    def _create(self, service: Any, owner: User | None, data: dict[str, Any]) -> Any:
        actor = self.actor(owner) if owner is not None else SYSTEM_ACTOR
        record = service.create(self.session, data=data, actor=actor)
        self.session.flush()
        return record
