"""A dry-run's report matches what the live run then does on the same events, and the
dry-run itself changes nothing."""

from datetime import timedelta

from sqlalchemy import func, select

from pipewise.automation import dryrun
from pipewise.automation.definition import load
from pipewise.automation.models import Decision, Enrollment
from pipewise.automation.service import workflow_service
from pipewise.events.models import OutboxEvent, ScheduledAction
from tests.automation.support import MANAGER, decisions, drain, emit, enrollments, make_workflow

DEFINITION = {
    "trigger": {"type": "record_created", "record_type": "contact"},
    "conditions": {"field": "title", "op": "in", "value": ["CEO", "CTO"]},
    "steps": [
        {"id": "hello", "type": "send_email", "subject": "Hi", "body": "Hello"},
        {"id": "reply", "type": "wait", "event": "email.replied", "timeout": "3d", "on_timeout": "nudge"},
        {"id": "thanks", "type": "add_tag", "tag": "engaged", "next": "end"},
        {"id": "nudge", "type": "branch", "condition": {"field": "title", "op": "eq", "value": "CEO"}, "else": "task"},
        {"id": "ceo", "type": "add_tag", "tag": "ceo-nudge", "next": "end"},
        {"id": "task", "type": "create_task", "title": "Call {{ record.last_name }}"},
    ],
}


def live_steps(session, enrollment):
    return [d.step_id for d in decisions(session) if d.enrollment_id == enrollment.id and d.kind in ("acted", "branched", "skipped")]


def test_report_matches_the_live_run(session, factory, clock):
    start = clock()
    ceo, cto, intern = factory.contact(title="CEO"), factory.contact(title="CTO"), factory.contact(title="Intern")
    replier = factory.contact(title="CTO")
    emit(session, "email.replied", "contact", replier.id)  # replies before the wait begins: it still counts
    session.commit()
    wf = make_workflow(session, DEFINITION, activate=False)
    before = {table: session.scalar(select(func.count()).select_from(table)) for table in (Enrollment, Decision, ScheduledAction)}

    report = dryrun.simulate(session, load(workflow_service.latest(session, wf)), start=start - timedelta(minutes=1), end=start + timedelta(days=10))

    assert {table: session.scalar(select(func.count()).select_from(table)) for table in before} == before
    simulated = {run.record_id: [s.step_id for s in run.steps if s.type != "wait"] for run in report.runs}
    assert set(simulated) == {ceo.id, cto.id, replier.id}
    assert [r.reason for r in report.not_enrolled] == ["contact.title Intern is not one of CEO, CTO"]

    workflow_service.activate(session, wf.id, actor=MANAGER)
    drain(session)  # the same events, now live
    clock.advance(days=3, seconds=1)
    drain(session)
    live = {e.record_id: live_steps(session, e) for e in enrollments(session, wf)}
    assert live == simulated
    assert live[ceo.id] == ["hello", "nudge", "ceo"] and live[cto.id] == ["hello", "nudge", "task"]
    rejected = [d.message for d in decisions(session, intern.id)]
    assert rejected == [r.reason for r in report.not_enrolled]


def test_a_reply_inside_the_window_releases_the_wait_in_both(session, factory, clock):
    start = clock()
    contact = factory.contact(title="CEO")
    session.commit()
    wf = make_workflow(session, DEFINITION, activate=False)
    clock.advance(hours=5)
    report_end = start + timedelta(days=10)
    workflow_service.activate(session, wf.id, actor=MANAGER)
    drain(session)
    emit(session, "email.replied", "contact", contact.id)
    session.flush()
    session.execute(OutboxEvent.__table__.update().where(OutboxEvent.name == "email.replied").values(occurred_at=clock()))
    drain(session)
    (run,) = dryrun.simulate(session, load(workflow_service.latest(session, wf)), start=start - timedelta(minutes=1), end=report_end).runs
    assert [s.step_id for s in run.steps] == ["hello", "reply", "thanks"]
    assert live_steps(session, enrollments(session, wf)[0]) == ["hello", "thanks"]
