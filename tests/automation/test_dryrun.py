"""A dry-run's report matches what the live run then does on the same events, and the
dry-run itself changes nothing."""

from datetime import timedelta

from sqlalchemy import func, select

from pipewise.automation import dryrun
from pipewise.automation.definition import load
from pipewise.automation.models import Decision, Enrollment
from pipewise.automation.service import workflow_service
from pipewise.crm.service import contact_service
from pipewise.events.models import OutboxEvent, ScheduledAction
from pipewise.records.history import record_as_of
from pipewise.records.models import RecordHistory
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


def _backdate_history(session, record_id, to):
    session.execute(RecordHistory.__table__.update().where(RecordHistory.record_id == record_id).values(at=to))


def test_conditions_are_judged_on_the_record_as_it_was_then(session, factory, clock):
    """Promoted after the event: the replay still sees the intern the live engine saw."""
    start = clock()
    promoted = factory.contact(title="Intern")
    demoted = factory.contact(title="CEO")
    session.flush()
    for contact in (promoted, demoted):
        _backdate_history(session, contact.id, start - timedelta(hours=2))
        session.execute(OutboxEvent.__table__.update().where(OutboxEvent.record_id == contact.id).values(occurred_at=start - timedelta(hours=2)))
    contact_service.update(session, promoted, data={"title": "CEO"}, actor=MANAGER)
    contact_service.update(session, demoted, data={"title": "Intern"}, actor=MANAGER)
    session.commit()
    wf = make_workflow(session, DEFINITION, activate=False)

    report = dryrun.simulate(session, load(workflow_service.latest(session, wf)), start=start - timedelta(days=1), end=start)

    assert [run.record_id for run in report.runs] == [demoted.id]
    assert report.runs[0].reason.endswith("contact.title CEO is one of CEO, CTO")
    assert [(r.record_id, r.reason) for r in report.not_enrolled] == [(promoted.id, "contact.title Intern is not one of CEO, CTO")]


def test_a_branch_sees_the_value_at_its_own_moment(session, factory, clock):
    """Enrolled as a CTO, promoted to CEO during the three-day wait: the branch takes the CEO path."""
    start = clock()
    contact = factory.contact(title="CTO")
    session.flush()
    _backdate_history(session, contact.id, start - timedelta(days=5))
    session.execute(OutboxEvent.__table__.update().where(OutboxEvent.record_id == contact.id).values(occurred_at=start - timedelta(days=5)))
    contact_service.update(session, contact, data={"title": "CEO"}, actor=MANAGER)
    session.flush()
    _backdate_history(session, contact.id, start - timedelta(days=4))  # only the promotion row is left to move
    session.execute(
        RecordHistory.__table__.update()
        .where(RecordHistory.record_id == contact.id, RecordHistory.action == "created")
        .values(at=start - timedelta(days=5))
    )
    session.commit()
    wf = make_workflow(session, DEFINITION, activate=False)

    (run,) = dryrun.simulate(session, load(workflow_service.latest(session, wf)), start=start - timedelta(days=6), end=start).runs

    assert "contact.title CTO is one of CEO, CTO" in run.reason
    assert [s.step_id for s in run.steps] == ["hello", "reply", "nudge", "ceo"]


def test_record_as_of_undoes_later_changes_and_rebuilds_deleted_records(session, factory):
    contact = factory.contact(title="Intern")
    session.flush()
    created_at = session.scalar(select(RecordHistory.at).where(RecordHistory.record_id == contact.id))
    contact_id, email = contact.id, contact.email
    contact_service.update(session, contact, data={"title": "CEO"}, actor=MANAGER)
    session.flush()
    contact_service.delete(session, contact, actor=MANAGER)
    session.flush()
    for action, minutes in (("updated", 10), ("deleted", 45)):
        session.execute(
            RecordHistory.__table__.update()
            .where(RecordHistory.record_id == contact_id, RecordHistory.action == action)
            .values(at=created_at + timedelta(minutes=minutes))
        )

    def title_at(minutes):
        then = record_as_of(session, "contact", contact_id, created_at + timedelta(minutes=minutes))
        return then and (then["title"], then["email"])

    assert title_at(-1) is None
    assert title_at(5) == ("Intern", email)
    assert title_at(20) == ("CEO", email)
    assert title_at(50) is None


def test_custom_fields_and_owner_are_judged_as_they_were(session, factory):
    from pipewise.automation.dryrun import AsOfExplainer
    from pipewise.records.field_definitions import custom_field_service

    for key, field_type, extra in (("seats", "number", {}), ("tier", "choice", {"choices": ["gold", "silver"]})):
        custom_field_service.create(
            session, data={"record_type": "contact", "key": key, "label": key, "field_type": field_type, **extra}, actor=MANAGER
        )
    first_owner, second_owner = factory.user(), factory.user()
    contact = factory.contact(owner=first_owner)
    contact_service.update(session, contact, data={"custom": {"seats": 40, "tier": "gold"}}, actor=MANAGER)
    session.flush()
    before = session.scalar(select(func.max(RecordHistory.at)).where(RecordHistory.record_id == contact.id))
    contact_service.update(session, contact, data={"custom": {"seats": 5, "tier": "silver"}, "owner_id": second_owner.id}, actor=MANAGER)
    session.flush()
    session.execute(
        RecordHistory.__table__.update()
        .where(RecordHistory.record_id == contact.id, RecordHistory.at > before)
        .values(at=before + timedelta(hours=1))
    )
    rule = {"all": [
        {"field": "custom.seats", "op": "gt", "value": 9},
        {"field": "custom.tier", "op": "eq", "value": "gold"},
        {"field": "owner_id", "op": "eq", "value": str(first_owner.id)},
    ]}

    then = AsOfExplainer(session, "contact", contact.id, before + timedelta(minutes=1)).explain(rule)
    now = AsOfExplainer(session, "contact", contact.id, before + timedelta(hours=2)).explain(rule)

    assert then.ok, then.text
    assert then.values["contact.custom.seats"] == 40
    assert not now.ok and "contact.custom.seats 5 is not above 9" in now.text
