"""A small sales company with a year of history, made through the real services and then
dated (the services stamp "now"; the history they write is moved back in time): two
teams, deals that move through the stages and close, leads from several sources, logged
activities, a sequence that e-mailed contacts and a workflow that acted on them."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import Decision
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.automation.service import workflow_service
from pipewise.deals.models import Deal, DealStageChange
from pipewise.errors import Conflict
from pipewise.deals.service import deal_service
from pipewise.leads.service import lead_service
from pipewise.mail.models import EmailMessage
from pipewise.records.models import RecordHistory
from pipewise.sequences.service import sequence_service

NOW = datetime.now(UTC).replace(microsecond=0)
SOURCES = ("Web form", "Webinar", "Referral")


@dataclass
class Company:
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)
    stages: list[Any] = field(default_factory=list)
    pipeline: Any = None
    sequence_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def build_company(session: Any, factory: Any, *, seed: int = 11, deals: int = 40) -> Company:
    rng = random.Random(seed)
    company = Company()
    for team_name in ("East", "West"):
        team = company.teams[team_name] = factory.team(team_name)
        manager = factory.user(role="manager", team=team, name=f"{team_name} Manager", password="correct-horse")
        team.manager_id = manager.id
        company.users[f"{team_name.lower()}_manager"] = manager
        company.users[f"{team_name.lower()}_rep"] = factory.user(role="rep", team=team, name=f"{team_name} Rep", password=None)
    company.users["admin"] = factory.user(role="admin", name="Ada Admin", password=None)
    company.pipeline, company.stages = factory.pipeline()
    session.flush()
    reps = [company.users[k] for k in ("east_rep", "west_rep", "east_manager")]
    open_stages, won, lost = company.stages[:4], company.stages[4], company.stages[5]
    contacts, created_of = [], {}
    for n in range(deals):
        owner = rng.choice(reps)
        account = factory.account(owner)
        contact = factory.contact(owner, account_id=account.id)
        contacts.append(contact)
        created = created_of[contact.id] = ago(rng.uniform(20, 330))
        deal = factory.deal(owner, name=f"Deal {n}", account_id=account.id, stage_id=open_stages[0].id,
                            amount=Decimal(rng.randrange(500, 20000, 50)), close_date=(created + timedelta(days=40)).date())
        deal_service.add_contact(session, deal.id, contact.id, role=None, actor=SYSTEM_ACTOR)
        outcome = rng.choice(("open", "won", "lost", "won"))
        path = open_stages[1 : rng.randint(1, 4)]
        if outcome == "won":
            path = [*path, won]
        elif outcome == "lost":
            path = [*path, lost]
        moments = sorted(created + timedelta(days=rng.uniform(1, 18)) for _ in path)
        for stage in path:
            data: dict[str, Any] = {"stage_id": stage.id}
            if stage is lost:
                data["lost_reason"] = "Price"
            if rng.random() < 0.3:  # the rep pushes the close date out on the way
                data["close_date"] = deal.close_date + timedelta(days=rng.randint(5, 30))
            deal_service.update(session, deal, data=data, actor=factory.actor(owner))
        session.flush()
        _date_deal(session, deal.id, created, moments)
        for _ in range(rng.randint(0, 4)):
            factory.activity(owner, type=rng.choice(("call", "email", "meeting", "note")), deal_id=deal.id,
                             contact_id=contact.id, occurred_at=ago(rng.uniform(1, 300)))
    _leads(session, factory, rng, company)
    _sequence(session, factory, rng, company, contacts)
    _workflow(session, factory, rng, company, contacts, created_of)
    session.commit()
    return company


def _date_deal(session: Any, deal_id: uuid.UUID, created: datetime, moments: list[datetime]) -> None:
    changes = list(session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal_id).order_by(DealStageChange.id)))
    changes[0].at = created
    for change, at in zip(changes[1:], moments, strict=True):
        change.at = at
    deal = session.get(Deal, deal_id)
    deal.created_at = created
    deal.stage_entered_at = changes[-1].at
    if deal.closed_at is not None:
        deal.closed_at = changes[-1].at
    history = list(session.scalars(select(RecordHistory).where(RecordHistory.record_id == deal_id).order_by(RecordHistory.id)))
    for row, at in zip(history, [created, *moments], strict=False):
        row.at = at
    session.flush()


def _leads(session: Any, factory: Any, rng: random.Random, company: Company) -> None:
    reps = [company.users["east_rep"], company.users["west_rep"]]
    for n in range(24):
        owner = rng.choice(reps)
        source = rng.choice(SOURCES)
        lead = factory.lead(owner, source=source, attribution={"utm_source": rng.choice(("google", "newsletter")),
                                                               "utm_campaign": f"q{rng.randint(1, 2)}"})
        created = ago(rng.uniform(5, 200))
        lead.created_at = created
        if rng.random() < 0.75:
            lead.first_touched_at = created + timedelta(minutes=rng.uniform(2, 600))
        if rng.random() < 0.4:
            converted = lead_service.convert(session, lead.id, actor=factory.actor(owner), deal_name=f"Lead deal {n}",
                                             amount=Decimal(rng.randrange(1000, 9000, 100)))
            session.flush()
            if rng.random() < 0.5:
                deal_service.update(session, converted["deal"], data={"stage_id": company.stages[4].id}, actor=factory.actor(owner))
                session.flush()
    session.flush()


def _sequence(session: Any, factory: Any, rng: random.Random, company: Company, contacts: list[Any]) -> None:
    step = {"kind": "auto_email", "delay_days": 2, "business_days": False,
            "variants": [{"label": "A", "subject": "Hi", "body_html": "<p>Hi</p>"}, {"label": "B", "subject": "Hello", "body_html": "<p>Hello</p>"}]}
    sequence = sequence_service.create(session, data={"name": "Outbound intro", "steps": [step, {**step, "delay_days": 5}]}, actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    session.flush()
    steps = sequence_service.steps(session, sequence.id)
    company.sequence_id = sequence.id
    for contact in rng.sample(contacts, min(len(contacts), 24)):
        try:  # the sequence's guards refuse contacts whose deal is past its first stage
            with session.begin_nested():
                enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
                session.flush()
        except Conflict:
            continue
        enrolled = ago(rng.uniform(30, 340))
        enrollment.enrolled_at = enrolled
        at = enrolled
        for step_row in steps:
            at += timedelta(days=rng.uniform(0.5, 6))
            variant = rng.choice(sequence_service.variants(session, step_row.id))
            session.add(EmailMessage(
                message_id=f"<{uuid.uuid4().hex}@test>", direction="outbound", kind="sequence", status="sent",
                enrollment_id=enrollment.id, step_id=step_row.id, variant_id=variant.id, contact_id=contact.id,
                account_id=contact.account_id, from_address="rep@example.com", to_address=contact.email, sent_at=at,
                opened_at=at + timedelta(hours=2) if rng.random() < 0.6 else None,
                replied_at=at + timedelta(hours=5) if rng.random() < 0.25 else None,
            ))
        if rng.random() < 0.5:
            factory.activity(None, type="meeting", contact_id=contact.id, occurred_at=at + timedelta(days=rng.uniform(0, 40)),
                             subject="Intro meeting")
    session.flush()


WORKFLOW = {
    "trigger": {"type": "record_created", "record_type": "contact"},
    "steps": [{"id": "wait", "type": "wait", "duration": "30d"}, {"id": "tag", "type": "add_tag", "tag": "nurtured"}],
}


def _workflow(session: Any, factory: Any, rng: random.Random, company: Company, contacts: list[Any],
              created_of: dict[uuid.UUID, datetime]) -> None:
    """Half the contacts enrolled while their deal is open (its cycle then counts as touched)."""
    workflow = workflow_service.create(session, name="Nurture", definition=WORKFLOW, actor=factory.actor(company.users["east_manager"]))
    workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
    company.workflow_id = workflow.id
    picked = rng.sample(contacts, min(len(contacts), 20))
    results = workflow_service.enroll_records(session, workflow.id, [c.id for c in picked], actor=SYSTEM_ACTOR)
    session.flush()
    for result, contact in zip(results, picked, strict=True):
        if result.enrollment is None:  # the workflow acts with its author's rights: another team's contact stays out
            continue
        enrollment = session.get(WorkflowEnrollment, result.enrollment.id)
        enrolled = created_of[contact.id] + timedelta(days=rng.uniform(0, 4)) if rng.random() < 0.5 else ago(rng.uniform(30, 340))
        enrollment.enrolled_at = enrolled
        session.add(Decision(workflow_id=workflow.id, version_number=1, enrollment_id=enrollment.id, record_type="contact",
                             record_id=contact.id, kind="acted", step_id="tag", message="tagged", at=enrolled + timedelta(days=rng.uniform(0, 3))))
        if contact.lifecycle_stage == "lead" and rng.random() < 0.7:
            session.execute(update(type(contact)).where(type(contact).id == contact.id).values(lifecycle_stage="mql"))
            session.add(RecordHistory(record_type="contact", record_id=contact.id, action="updated",
                                      changes={"lifecycle_stage": ["lead", "mql"]}, at=enrolled - timedelta(days=1)))
            if rng.random() < 0.5:
                session.add(RecordHistory(record_type="contact", record_id=contact.id, action="updated",
                                          changes={"lifecycle_stage": ["mql", "sql"]}, at=enrolled + timedelta(days=rng.uniform(1, 20))))
        if rng.random() < 0.6:
            factory.activity(company.users["east_rep"], type="call", contact_id=contact.id,
                             occurred_at=enrolled + timedelta(hours=rng.uniform(1, 200)), subject="Follow-up call")
    session.flush()
