"""One deal's life for the demo: created at some point in the last year, moved through
the pipeline by its owner, worked with calls, e-mails and meetings, then won, lost or
still open — each step through the deal service, so stage history and events exist."""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.service import activity_service, contact_service, task_service
from pipewise.deals.models import Deal, Stage
from pipewise.deals.service import deal_service
from pipewise.demo.clock import StoryClock, moment_between
from pipewise.demo.generator import AccountFacts, DemoGenerator
from pipewise.demo.organisation import SalesOrg
from pipewise.demo.words import (
    CALL_SUBJECTS,
    EMAIL_SUBJECTS,
    LOST_REASONS,
    MEETING_SUBJECTS,
    NEXT_STEPS,
    NOTE_SUBJECTS,
    OFFERINGS,
    TASK_TITLES,
)

WIN_RATE = 0.38
CONTACT_ROLES = ("Decision maker", "Champion", "Technical evaluator", "Economic buyer")
ACTIVITY_KINDS = {"email": 40, "call": 30, "meeting": 18, "note": 12}
SUBJECTS = {"email": EMAIL_SUBJECTS, "call": CALL_SUBJECTS, "meeting": MEETING_SUBJECTS, "note": NOTE_SUBJECTS}


@dataclass(frozen=True)
class StagePlan:
    """The pipeline's stages as the story needs them (ids only, valid across sessions)."""

    open: tuple[uuid.UUID, ...]
    won: uuid.UUID
    lost: uuid.UUID
    needs_amount: frozenset[uuid.UUID]

    @classmethod
    def from_stages(cls, stages: list[Stage]) -> "StagePlan":
        ordered = sorted(stages, key=lambda s: s.position)
        open_ids = tuple(s.id for s in ordered if s.kind == "open")
        won = next((s.id for s in ordered if s.kind == "won"), None)
        lost = next((s.id for s in ordered if s.kind == "lost"), None)
        if not open_ids or won is None or lost is None:
            raise ValueError("the default pipeline needs open, won and lost stages for the demo")
        needs_amount = frozenset(s.id for s in ordered if "amount" in s.required_fields)
        return cls(open=open_ids, won=won, lost=lost, needs_amount=needs_amount)


class DealStory:
    def __init__(
        self,
        *,
        rng: random.Random,
        words: DemoGenerator,
        clock: StoryClock,
        org: SalesOrg,
        stages: StagePlan,
        now: datetime,
    ) -> None:
        self.rng = rng
        self.words = words
        self.clock = clock
        self.org = org
        self.stages = stages
        self.now = now
        self._stages_session: Session | None = None
        self._stage_rows: list[Stage] = []

    def play(self, session: Session, account: AccountFacts) -> None:
        self._keep_stages_loaded(session)
        actor = self.org.actor(account.owner_id)
        now = self.now
        created = self._moment(max(account.created_at, now - timedelta(days=365)), now - timedelta(days=2))
        cycle_end = created + timedelta(days=self.rng.randint(18, 130))
        outcome = "open" if cycle_end > now else ("won" if self.rng.random() < WIN_RATE else "lost")
        path = self._path(outcome, created, cycle_end)
        finish = cycle_end if outcome != "open" else now

        deal = self._create(session, account, actor, created, cycle_end, outcome)
        for contact_id, role in zip(self._deal_contacts(account), CONTACT_ROLES, strict=False):
            deal_service.add_contact(session, deal.id, contact_id, role=role, actor=actor)
        for stage_id, at in zip(path, sorted(self._moment(created, finish) for _ in path), strict=True):
            self._move(session, deal, stage_id, at, actor, account)
        self._work(session, deal, account, actor, created, finish)
        self._follow_up(session, deal, actor, outcome, finish)
        if outcome == "won" and account.contact_ids:
            self._make_customer(session, account.contact_ids[0], actor, finish)

    def _keep_stages_loaded(self, session: Session) -> None:
        """Hold the stages in this session's identity map, so the deal service's stage
        look-ups don't go back to the database for every move."""
        if self._stages_session is not session:
            self._stage_rows = list(session.scalars(select(Stage)))
            self._stages_session = session

    def _moment(self, start: datetime, end: datetime) -> datetime:
        return moment_between(self.rng, start, end)

    def _path(self, outcome: str, created: datetime, cycle_end: datetime) -> list[uuid.UUID]:
        """The stages the deal moves into after its first one."""
        later_open = list(self.stages.open[1:])
        if outcome == "won":
            return [s for s in later_open if self.rng.random() > 0.15 or s in self.stages.needs_amount] + [self.stages.won]
        if outcome == "lost":
            return later_open[: self.rng.randint(0, len(later_open))] + [self.stages.lost]
        progress = (self.now - created) / (cycle_end - created)
        return later_open[: int(progress * len(self.stages.open))]

    def _create(
        self, session: Session, account: AccountFacts, actor: Actor, created: datetime, cycle_end: datetime, outcome: str
    ) -> Deal:
        self.clock.now = created
        close_date = cycle_end
        if outcome == "open" and close_date < self.now + timedelta(days=3):
            close_date = self.now + timedelta(days=self.rng.randint(7, 60))
        known_early = self.rng.random() < 0.75
        data: dict[str, Any] = {
            "name": f"{account.company.name} — {self.rng.choice(OFFERINGS)}",
            "amount": self.words.deal_amount(account.company.size) if known_early else None,
            "close_date": close_date.date(),
            "account_id": account.id,
            "owner_id": account.owner_id,
            "next_step": self.rng.choice(NEXT_STEPS) if outcome == "open" else None,
        }
        deal = deal_service.create(session, data=data, actor=actor)
        deal.stage_entered_at = created
        session.flush()
        return deal

    def _move(
        self, session: Session, deal: Deal, stage_id: uuid.UUID, at: datetime, actor: Actor, account: AccountFacts
    ) -> None:
        self.clock.now = at
        change: dict[str, Any] = {"stage_id": stage_id}
        if stage_id in self.stages.needs_amount and deal.amount is None:
            change["amount"] = self.words.deal_amount(account.company.size)
        if stage_id in (self.stages.won, self.stages.lost):
            change["close_date"] = at.date()
            change["next_step"] = None
        if stage_id == self.stages.lost:
            change["lost_reason"] = self.rng.choice(LOST_REASONS)
        deal_service.update(session, deal, data=change, actor=actor)
        deal.stage_entered_at = at
        if deal.closed_at is not None:
            deal.closed_at = at

    def _deal_contacts(self, account: AccountFacts) -> list[uuid.UUID]:
        count = min(len(account.contact_ids), self.rng.choice((1, 1, 2, 2, 3)))
        return self.rng.sample(account.contact_ids, count)

    def _work(
        self, session: Session, deal: Deal, account: AccountFacts, actor: Actor, start: datetime, end: datetime
    ) -> None:
        """Calls, e-mails, meetings and notes spread over the deal's life."""
        kinds = list(ACTIVITY_KINDS)
        weights = list(ACTIVITY_KINDS.values())
        for at in sorted(self._moment(start, end) for _ in range(self.rng.randint(2, 5))):
            kind = self.rng.choices(kinds, weights=weights)[0]
            self.clock.now = at
            data: dict[str, Any] = {
                "type": kind,
                "subject": self.rng.choice(SUBJECTS[kind]),
                "occurred_at": at,
                "deal_id": deal.id,
                "account_id": account.id,
            }
            if account.contact_ids and kind != "note":
                data["contact_id"] = self.rng.choice(account.contact_ids)
            if kind in ("email", "call"):
                data["direction"] = "inbound" if self.rng.random() < 0.3 else "outbound"
            if kind in ("call", "meeting"):
                data["duration_minutes"] = self.rng.choice((10, 15, 20, 30, 45, 60))
            activity_service.create(session, data=data, actor=actor)

    def _follow_up(self, session: Session, deal: Deal, actor: Actor, outcome: str, finish: datetime) -> None:
        self.clock.now = finish - timedelta(days=self.rng.uniform(0, 3))
        data: dict[str, Any] = {
            "title": self.rng.choice(TASK_TITLES),
            "related_type": "deal",
            "related_id": deal.id,
            "owner_id": deal.owner_id,
            "priority": self.rng.choice(("low", "normal", "normal", "high")),
        }
        if outcome == "open":
            # Some reps are behind: a few follow-ups are overdue.
            data["due_at"] = self.now + timedelta(days=self.rng.uniform(-5, 14))
            task_service.create(session, data=data, actor=actor)
            return
        data["due_at"] = finish
        data["status"] = "done"
        task = task_service.create(session, data=data, actor=actor)
        task.completed_at = finish

    def _make_customer(self, session: Session, contact_id: uuid.UUID, actor: Actor, at: datetime) -> None:
        self.clock.now = at
        contact = contact_service.get(session, contact_id, actor=actor, write=True)
        if contact.lifecycle_stage != "customer":
            contact_service.update(session, contact, data={"lifecycle_stage": "customer"}, actor=actor)
