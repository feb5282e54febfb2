"""Loads the demo data set through the real services, a few hundred records per
transaction, reporting progress as it goes."""

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.service import (
    account_service,
    activity_service,
    contact_service,
    task_service,
)
from pipewise.db.session import session_scope
from pipewise.deals.defaults import ensure_default_pipeline
from pipewise.demo import automation as demo_automation
from pipewise.demo import quotes as demo_quotes
from pipewise.demo.clock import StoryClock, moment_between
from pipewise.demo.config import demo_password
from pipewise.demo.deals import DealStory, StagePlan
from pipewise.demo.generator import AccountFacts, DemoGenerator
from pipewise.demo.organisation import SalesOrg, build_sales_org
from pipewise.demo.words import (
    CALL_SUBJECTS,
    DISQUALIFY_REASONS,
    EMAIL_SUBJECTS,
    LEAD_SOURCES,
    TASK_TITLES,
)
from pipewise.leads.service import lead_service

T = TypeVar("T")
ProgressCallback = Callable[[str, int, int], None]
"""Called as (phase, done, total) after each committed batch."""

DEFAULT_ACCOUNTS = 2000
ONE_YEAR = timedelta(days=365)
LIFECYCLE_WEIGHTS = {"lead": 30, "mql": 20, "sql": 15, "opportunity": 15, "customer": 20}
LEAD_STATUS_WEIGHTS = {"new": 30, "working": 25, "nurturing": 18, "qualified": 12, "disqualified": 15}


@dataclass(frozen=True)
class DemoSize:
    """How much to load; everything scales with the number of accounts."""

    accounts: int = DEFAULT_ACCOUNTS

    @property
    def contacts(self) -> int:
        return self.accounts * 5 // 2

    @property
    def deals(self) -> int:
        return max(1, self.accounts * 2 // 5)

    @property
    def leads(self) -> int:
        return max(1, self.accounts // 4)

    @property
    def follow_up_tasks(self) -> int:
        return max(1, self.accounts // 4)


class DemoLoader:
    def __init__(
        self,
        size: DemoSize | None = None,
        *,
        seed: int = 7,
        password: str | None = None,
        on_progress: ProgressCallback | None = None,
        batch_size: int = 300,
    ) -> None:
        self.size = size or DemoSize()
        self.rng = random.Random(seed)
        self.words = DemoGenerator(seed)
        self.password = password or demo_password()
        self.on_progress = on_progress or (lambda _phase, _done, _total: None)
        self.batch_size = batch_size
        self.clock = StoryClock()
        self.now = self.clock.now
        self.accounts: list[AccountFacts] = []
        self.org = SalesOrg()

    def run(self) -> None:
        stages = self._set_up()
        self._load_accounts()
        self._load_contacts()
        story = DealStory(rng=self.rng, words=self.words, clock=self.clock, org=self.org, stages=stages, now=self.now)
        # A deal's story is some forty writes; keep transactions about as big as elsewhere.
        self._in_batches("Deals", self._pick_deal_accounts(), story.play, batch_size=max(1, self.batch_size // 10))
        self._in_batches("Leads", range(self.size.leads), self._lead)
        self._load_follow_ups()
        self._load_quotes()
        self._load_automation()

    # -- plumbing --

    def _in_batches(
        self, phase: str, items: Sequence[T], load: Callable[[Session, T], None], *, batch_size: int | None = None
    ) -> None:
        """Run ``load`` for every item, committing every ``batch_size`` items.

        Each item (an account, a deal's whole story) is flushed once at its end rather
        than before every look-up the services make, so its rows go out as a few batched
        INSERTs; the story flushes by hand where it reads back what it just wrote."""
        size = batch_size or self.batch_size
        total = len(items)
        self.on_progress(phase, 0, total)
        for start in range(0, total, size):
            with session_scope() as session:
                self.clock.attach(session)
                for item in items[start : start + size]:
                    with session.no_autoflush:
                        load(session, item)
                    session.flush()
            self.on_progress(phase, min(start + size, total), total)

    def _moment(self, start: datetime, end: datetime) -> datetime:
        return moment_between(self.rng, start, end)

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # -- phases --

    def _set_up(self) -> StagePlan:
        self.clock.now = self.now - 2 * ONE_YEAR - timedelta(days=30)
        with session_scope() as session:
            self.clock.attach(session)
            _pipeline, stages, _created = ensure_default_pipeline(session)
            self.org = build_sales_org(session, password=self.password)
        return StagePlan.from_stages(stages)

    def _load_accounts(self) -> None:
        # Most accounts predate the year of deals the demo tells, as in a CRM in use for a while.
        oldest = self.now - 2 * ONE_YEAR
        for _ in range(self.size.accounts):
            company = self.words.company()
            owner_id = self.org.owner_for(self.rng, company.country, company.size)
            created_at = self._moment(oldest, self.now - timedelta(days=20))
            self.accounts.append(AccountFacts(uuid.UUID(int=0), company, owner_id, created_at))
        self.accounts.sort(key=lambda a: a.created_at)

        def load(session: Session, facts: AccountFacts) -> None:
            self.clock.now = facts.created_at
            company = facts.company
            account = account_service.create(
                session,
                data={
                    "name": company.name,
                    "domain": company.domain,
                    "industry": company.industry,
                    "size": company.size,
                    "country": company.country.code,
                    "owner_id": facts.owner_id,
                },
                actor=self.org.actor(facts.owner_id),
            )
            facts.id = account.id

        self._in_batches("Accounts", self.accounts, load)

    def _load_contacts(self) -> None:
        # Every account gets one contact; the rest go mostly to the bigger accounts.
        extra = max(0, self.size.contacts - len(self.accounts))
        weights = [1 + min(a.company.size, 5000) ** 0.5 / 10 for a in self.accounts]
        slots = list(self.accounts) + self.rng.choices(self.accounts, weights=weights, k=extra)

        def load(session: Session, facts: AccountFacts) -> None:
            company = facts.company
            seniority = 0 if not facts.contact_ids and company.size < 50 else None
            person = self.words.person(company.country, company.domain, seniority=seniority)
            self.clock.now = self._moment(facts.created_at, min(facts.created_at + timedelta(days=90), self.now))
            contact = contact_service.create(
                session,
                data={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": person.email,
                    "phone": person.phone,
                    "title": person.title,
                    "timezone": person.timezone,
                    "account_id": facts.id,
                    "owner_id": facts.owner_id,
                    "lifecycle_stage": self._weighted(LIFECYCLE_WEIGHTS),
                    "consent_state": self.rng.choice(("unknown", "granted", "granted")),
                },
                actor=self.org.actor(facts.owner_id),
            )
            facts.contact_ids.append(contact.id)

        self._in_batches("Contacts", slots, load)

    def _pick_deal_accounts(self) -> list[AccountFacts]:
        weights = [1 + min(a.company.size, 5000) ** 0.5 / 20 for a in self.accounts]
        return self.rng.choices(self.accounts, weights=weights, k=self.size.deals)

    def _lead(self, session: Session, _index: int) -> None:
        """An inbound lead: most from new companies, some from accounts we already know
        (the lead service links those by domain)."""
        if self.rng.random() < 0.15:
            company = self.rng.choice(self.accounts).company
        else:
            company = self.words.company()
        person = self.words.person(company.country, company.domain)
        status = self._weighted(LEAD_STATUS_WEIGHTS)
        unassigned = status == "new" and self.rng.random() < 0.4
        owner_id = None if unassigned else self.org.owner_for(self.rng, company.country, company.size)
        actor = self.org.actor(owner_id)
        # Recent leads outnumber old ones.
        self.clock.now = self.now - timedelta(days=120 * self.rng.random() ** 1.6, hours=self.rng.uniform(1, 12))
        lead = lead_service.create(
            session,
            data={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "phone": person.phone,
                "title": person.title,
                "company": company.name,
                "domain": company.domain,
                "industry": company.industry,
                "company_size": company.size,
                "country": company.country.code,
                "source": self.rng.choice(LEAD_SOURCES),
                "owner_id": owner_id,
            },
            actor=actor,
        )
        if status == "new":
            return
        session.flush()  # the activity below refers to the lead
        self.clock.now = min(self.clock.now + timedelta(hours=self.rng.uniform(0.2, 72)), self.now)
        self._log_activity(session, actor, "call" if self.rng.random() < 0.5 else "email", lead_id=lead.id)
        change: dict[str, Any] = {"status": status}
        if status == "disqualified":
            change["disqualified_reason"] = self.rng.choice(DISQUALIFY_REASONS)
        lead_service.update(session, lead, data=change, actor=actor)
        if status == "qualified" and self.rng.random() < 0.3:
            self.clock.now = min(self.clock.now + timedelta(days=self.rng.uniform(0.5, 5)), self.now)
            with autoflushing(session):
                converted = lead_service.convert(session, lead.id, actor=actor, deal_name=f"{company.name} — first order")
            converted["deal"].stage_entered_at = self.clock.now

    def _log_activity(self, session: Session, actor: Actor, kind: str, **links: uuid.UUID) -> None:
        subject = self.rng.choice(CALL_SUBJECTS if kind == "call" else EMAIL_SUBJECTS)
        activity_service.create(
            session,
            data={
                "type": kind,
                "direction": "outbound",
                "subject": subject,
                "occurred_at": self.clock.now,
                "duration_minutes": self.rng.randint(3, 30) if kind == "call" else None,
                **links,
            },
            actor=actor,
        )

    def _load_quotes(self) -> None:
        self.on_progress("Quotes", 0, 1)
        with session_scope() as session:
            self.clock.attach(session)
            demo_quotes.set_up_company(session)
            products = demo_quotes.load_catalogue(session)
            demo_quotes.quote_open_deals(session, self.org, self.rng, products)
        self.on_progress("Quotes", 1, 1)

    def _load_automation(self) -> None:
        self.on_progress("Automation", 0, 1)
        with session_scope() as session:
            self.clock.attach(session)
            demo_automation.load_automation(session, self.org, self.rng, self.clock, self.now)
        self.on_progress("Automation", 1, 1)

    def _load_follow_ups(self) -> None:
        """Touches and to-dos on contacts that have no deal: nurture calls, check-ins."""
        candidates = [a for a in self.accounts if a.contact_ids]
        picks = self.rng.choices(candidates, k=self.size.follow_up_tasks) if candidates else []

        def load(session: Session, facts: AccountFacts) -> None:
            actor = self.org.actor(facts.owner_id)
            contact_id = self.rng.choice(facts.contact_ids)
            self.clock.now = self._moment(self.now - timedelta(days=150), self.now - timedelta(hours=2))
            self._log_activity(session, actor, self.rng.choice(("call", "email")), contact_id=contact_id)
            due = self.now + timedelta(days=self.rng.uniform(-6, 21))
            task_service.create(
                session,
                data={
                    "title": self.rng.choice(TASK_TITLES),
                    "due_at": due,
                    "priority": self.rng.choice(("low", "normal", "normal", "high")),
                    "related_type": "contact",
                    "related_id": contact_id,
                    "owner_id": facts.owner_id,
                },
                actor=actor,
            )

        self._in_batches("Follow-ups", picks, load)


@contextmanager
def autoflushing(session: Session) -> Iterator[None]:
    """For a service that reads back rows it has just added (lead conversion)."""
    previous = session.autoflush
    session.autoflush = True
    try:
        yield
    finally:
        session.autoflush = previous

