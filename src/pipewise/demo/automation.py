"""The demo's last year of automation, kept as history: a sequence that e-mailed contacts
(each message, who opened and replied, the meetings that followed) and a workflow that
acted on contacts (now paused), so that the sequence, workflow and automation reports have
numbers to show. Every enrollment is over: nothing is left for the worker to send or do."""

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, User
from pipewise.automation.models import Decision
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.automation.service import workflow_service
from pipewise.crm.models import Contact
from pipewise.crm.service import activity_service
from pipewise.db.base import uuid7
from pipewise.demo.clock import StoryClock, moment_between
from pipewise.demo.organisation import SalesOrg
from pipewise.mail.models import EmailMessage
from pipewise.sequences.models import Enrollment as SequenceEnrollment
from pipewise.sequences.service import sequence_service

ENROLLED_SHARE = 0.12  # of the contacts with an e-mail address, in each of the two
OPENED, REPLIED, MET = 0.5, 0.12, 0.5  # an e-mail opened; answered; a reply followed by a meeting
RUNS_FOR = timedelta(days=30)  # an enrollment's e-mails, reply and meeting all fall within this
SENDER = "team@pipewise.example"

SEQUENCE = {"name": "Re-engage quiet contacts", "steps": [
    {"kind": "auto_email", "delay_days": 0, "business_days": False, "variants": [
        {"label": "A", "subject": "Still on your list?", "body_html": "<p>Is this still something you are looking at?</p>"},
        {"label": "B", "subject": "A quick question", "body_html": "<p>Would a short call this month help?</p>"}]},
    {"kind": "auto_email", "delay_days": 4, "business_days": False, "variants": [
        {"label": "A", "subject": "What teams like yours changed", "body_html": "<p>Three things that worked for them.</p>"}]},
    {"kind": "auto_email", "delay_days": 9, "business_days": False, "variants": [
        {"label": "A", "subject": "Shall I close your file?", "body_html": "<p>No answer needed if the timing is wrong.</p>"}]},
]}
WORKFLOW = {
    "trigger": {"type": "record_created", "record_type": "contact"},
    "steps": [{"id": "wait", "type": "wait", "duration": "2d"}, {"id": "tag", "type": "add_tag", "tag": "nurtured"}],
}


def load_automation(session: Session, org: SalesOrg, rng: random.Random, clock: StoryClock, now: datetime) -> None:
    """A sequence and a workflow, both a manager's, with a year of finished enrollments."""
    manager = session.scalars(select(User).where(User.role == Role.manager).order_by(User.name)).first()
    if manager is None:
        return
    contacts = session.execute(select(Contact.id, Contact.email, Contact.account_id, Contact.owner_id, Contact.created_at)
                               .where(Contact.email.is_not(None)).order_by(Contact.id)).all()
    start, end = now - timedelta(days=365), now - RUNS_FOR
    eligible = [c for c in contacts if c.created_at < end]
    _sequence_history(session, org, rng, clock, manager.id, rng.sample(eligible, int(len(eligible) * ENROLLED_SHARE)), start, end)
    _workflow_history(session, org, rng, manager.id, rng.sample(eligible, int(len(eligible) * ENROLLED_SHARE)), start, end)


def _sequence_history(session: Session, org: SalesOrg, rng: random.Random, clock: StoryClock, author: uuid.UUID,
                      contacts: list[Any], start: datetime, end: datetime) -> None:
    sequence = sequence_service.create(session, data=SEQUENCE, actor=org.actor(author))
    sequence_service.activate(session, sequence.id, actor=org.actor(author))
    steps = [(step, sequence_service.variants(session, step.id)) for step in sequence_service.steps(session, sequence.id)]
    enrollments: list[SequenceEnrollment] = []
    messages: list[EmailMessage] = []  # each outbound before its reply
    meetings: list[tuple[Any, datetime]] = []
    for contact in contacts:
        enrolled = moment_between(rng, max(start, contact.created_at), end)
        enrollment = SequenceEnrollment(id=uuid7(), sequence_id=sequence.id, contact_id=contact.id, account_id=contact.account_id,
                                        enrolled_by=author, enrolled_at=enrolled, signals_after=enrolled, created_at=enrolled)
        enrollments.append(enrollment)
        replied_at = None
        for step, variants in steps:
            sent = enrolled + timedelta(days=step.delay_days, hours=rng.uniform(0, 8))
            opened = sent + timedelta(hours=rng.uniform(0.2, 30)) if rng.random() < OPENED else None
            replied_at = (opened or sent) + timedelta(hours=rng.uniform(1, 48)) if opened and rng.random() < REPLIED else None
            outbound = _email(enrollment, contact, step.id, rng.choice(variants).id, sent=sent, opened_at=opened, replied_at=replied_at)
            messages.append(outbound)
            enrollment.last_touch_at = sent
            if replied_at is not None:  # a reply ends the sequence: a person takes over
                messages.append(_reply(outbound, contact, replied_at))
                if rng.random() < MET:
                    meetings.append((contact, replied_at + timedelta(days=rng.uniform(1, 10))))
                break
        enrollment.status, enrollment.reason = ("exited", "replied") if replied_at else ("finished", None)
        enrollment.ended_at = enrollment.updated_at = replied_at or enrollment.last_touch_at
    _add_parents_first(session, enrollments, messages)
    for contact, at in meetings:
        _meeting(session, org, clock, contact, at)


def _add_parents_first(session: Session, parents: list[Any], children: list[Any]) -> None:
    """The rows ``children`` refer to are written first: no relationship tells the session the order."""
    session.add_all(parents)
    session.flush()
    session.add_all(children)
    session.flush()


def _email(enrollment: SequenceEnrollment, contact: Any, step_id: uuid.UUID, variant_id: uuid.UUID, *, sent: datetime,
           opened_at: datetime | None, replied_at: datetime | None) -> EmailMessage:
    return EmailMessage(
        id=uuid7(), message_id=f"<{uuid.uuid4().hex}@pipewise.example>", direction="outbound", kind="sequence", status="sent",
        enrollment_id=enrollment.id, step_id=step_id, variant_id=variant_id, contact_id=contact.id, account_id=contact.account_id,
        from_address=SENDER, to_address=contact.email, subject="", sent_at=sent, delivered_at=sent, opened_at=opened_at,
        open_count=1 if opened_at else 0, replied_at=replied_at, created_at=sent, updated_at=replied_at or opened_at or sent)


def _reply(outbound: EmailMessage, contact: Any, at: datetime) -> EmailMessage:
    return EmailMessage(
        id=uuid7(), message_id=f"<{uuid.uuid4().hex}@mail.example>", direction="inbound", kind="reply", status="received",
        enrollment_id=outbound.enrollment_id, step_id=outbound.step_id, variant_id=outbound.variant_id, contact_id=contact.id,
        account_id=contact.account_id, parent_id=outbound.id, from_address=contact.email, to_address=SENDER,
        subject="Re: your note", in_reply_to=outbound.message_id, automated=False, created_at=at, updated_at=at)


def _meeting(session: Session, org: SalesOrg, clock: StoryClock, contact: Any, at: datetime) -> None:
    clock.now = at
    activity_service.create(session, data={"type": "meeting", "subject": "Intro meeting", "occurred_at": at,
                                           "contact_id": contact.id, "duration_minutes": 30}, actor=org.actor(contact.owner_id))


def _workflow_history(session: Session, org: SalesOrg, rng: random.Random, author: uuid.UUID, contacts: list[Any],
                      start: datetime, end: datetime) -> None:
    workflow = workflow_service.create(session, name="Nurture new contacts", definition=WORKFLOW, actor=org.actor(author))
    workflow_service.activate(session, workflow.id, actor=org.actor(author))
    session.flush()
    enrollments, decisions = [], []
    for contact in contacts:
        enrolled = moment_between(rng, max(start, contact.created_at), end)
        acted = enrolled + timedelta(days=2, minutes=rng.uniform(0, 90))
        enrollment = WorkflowEnrollment(
            id=uuid7(), workflow_id=workflow.id, version_id=workflow.live_version_id, record_type="contact", record_id=contact.id,
            status="finished", enrolled_at=enrolled, finished_at=acted)
        enrollments.append(enrollment)
        decisions.append(Decision(workflow_id=workflow.id, version_number=1, enrollment_id=enrollment.id, record_type="contact",
                                  record_id=contact.id, kind="acted", step_id="tag", message="tagged nurtured", at=acted))
    _add_parents_first(session, enrollments, decisions)
    # Paused: active, it would enroll every contact the demo just created (their events wait
    # for the worker), with live timers, and be the only automation running in the demo.
    workflow_service.pause(session, workflow.id, actor=org.actor(author), reason="The year's nurture run is over")
