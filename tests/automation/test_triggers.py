"""Every trigger type starts a workflow for the right record, and only then."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import RecordTag
from pipewise.automation.service import workflow_service
from pipewise.automation.triggers import EMAIL_EVENTS
from pipewise.crm.service import contact_service, task_service
from pipewise.deals.service import deal_service
from tests.automation.support import MANAGER, drain, emit, enrollments, make_workflow

TAG = [{"id": "tag", "type": "add_tag", "tag": "hit"}]


def enrolled_ids(session, wf):
    return {e.record_id for e in enrollments(session, wf)}


def tagged(session, record_id) -> bool:
    return session.query(RecordTag).filter_by(record_id=record_id, tag="hit").count() == 1


class TestRecordTriggers:
    def test_record_created(self, session, factory, clock):
        wf = make_workflow(session, {"trigger": {"type": "record_created", "record_type": "contact"}, "steps": TAG})
        contact = factory.contact()
        factory.account()
        drain(session)
        assert enrolled_ids(session, wf) == {contact.id}
        assert tagged(session, contact.id)

    def test_record_updated(self, session, factory, clock):
        contact = factory.contact()
        drain(session)
        wf = make_workflow(session, {"trigger": {"type": "record_updated", "record_type": "contact"}, "steps": TAG})
        contact_service.update(session, contact, data={"title": "CTO"}, actor=SYSTEM_ACTOR)
        drain(session)
        assert enrolled_ids(session, wf) == {contact.id}

    def test_record_deleted_runs_steps_that_need_no_record(self, session, factory, clock):
        contact = factory.contact()
        drain(session)
        wf = make_workflow(
            session,
            {"trigger": {"type": "record_deleted", "record_type": "contact"},
             "steps": [{"id": "n", "type": "notify", "recipient": {"to": "user", "user_id": str(factory.user().id)},
                        "title": "A contact was deleted"}]},
        )
        contact_id = contact.id
        contact_service.delete(session, contact, actor=SYSTEM_ACTOR)
        drain(session)
        (enrollment,) = enrollments(session, wf)
        assert enrollment.record_id == contact_id and enrollment.status == "completed"

    def test_field_changed_from_to(self, session, factory, clock):
        a, b = factory.contact(lifecycle_stage="lead"), factory.contact(lifecycle_stage="mql")
        drain(session)
        wf = make_workflow(
            session,
            {"trigger": {"type": "field_changed", "record_type": "contact", "field": "lifecycle_stage", "from": "lead", "to": "sql"},
             "steps": TAG},
        )
        contact_service.update(session, a, data={"lifecycle_stage": "sql"}, actor=SYSTEM_ACTOR)
        contact_service.update(session, b, data={"lifecycle_stage": "sql"}, actor=SYSTEM_ACTOR)
        drain(session)
        assert enrolled_ids(session, wf) == {a.id}

    def test_custom_field_changed(self, session, factory, clock):
        from pipewise.records.field_definitions import custom_field_service

        custom_field_service.create(session, data={"record_type": "contact", "key": "tier", "label": "Tier", "field_type": "text"}, actor=SYSTEM_ACTOR)
        contact = factory.contact()
        drain(session)
        wf = make_workflow(
            session, {"trigger": {"type": "field_changed", "record_type": "contact", "field": "custom.tier", "to": "gold"}, "steps": TAG}
        )
        contact_service.update(session, contact, data={"custom": {"tier": "gold"}}, actor=SYSTEM_ACTOR)
        drain(session)
        assert enrolled_ids(session, wf) == {contact.id}


class TestDealAndScoreTriggers:
    def test_stage_changed_to_a_named_stage(self, session, factory, clock):
        _, stages = factory.pipeline()
        deal, other = factory.deal(), factory.deal()
        drain(session)
        wf = make_workflow(session, {"trigger": {"type": "stage_changed", "to_stage": "Demo"}, "steps": TAG})
        deal_service.move_to_stage(session, deal.id, stages[1].id, actor=SYSTEM_ACTOR)
        deal_service.update(session, other, data={"stage_id": stages[2].id}, actor=SYSTEM_ACTOR)
        drain(session)
        assert enrolled_ids(session, wf) == {deal.id}

    @pytest.mark.parametrize(("direction", "expected"), [("up", True), ("down", False)])
    def test_score_crossed(self, session, factory, clock, direction, expected):
        lead = factory.lead()
        drain(session)
        wf = make_workflow(session, {"trigger": {"type": "score_crossed", "threshold": 80, "direction": "up"}, "steps": TAG})
        emit(session, "lead.score_crossed", "lead", lead.id, score=85, threshold=80, direction=direction)
        drain(session)
        assert (enrolled_ids(session, wf) == {lead.id}) is expected


class TestActivityAndEmailTriggers:
    def test_activity_logged_by_type_enrolls_the_record_it_is_on(self, session, factory, clock):
        contact = factory.contact()
        drain(session)
        wf = make_workflow(
            session, {"trigger": {"type": "activity_logged", "record_type": "contact", "activity_type": "meeting"}, "steps": TAG}
        )
        factory.activity(type="note", contact_id=contact.id)
        drain(session)
        assert enrolled_ids(session, wf) == set()
        factory.activity(type="meeting", subject="Demo", contact_id=contact.id)
        drain(session)
        assert enrolled_ids(session, wf) == {contact.id}

    @pytest.mark.parametrize("event", EMAIL_EVENTS)
    def test_email_event(self, session, factory, clock, event):
        contact = factory.contact()
        drain(session)
        wf = make_workflow(session, {"trigger": {"type": "email_event", "event": event}, "steps": TAG})
        emit(session, f"email.{event}", "contact", contact.id, subject="Hello")
        other = next(e for e in EMAIL_EVENTS if e != event)
        emit(session, f"email.{other}", "contact", factory.contact().id)
        drain(session)
        assert enrolled_ids(session, wf) == {contact.id}


class TestTaskTriggers:
    def test_task_completed_enrolls_the_related_record(self, session, factory, clock):
        deal_pipeline = factory.pipeline()
        assert deal_pipeline
        deal = factory.deal()
        task = task_service.create(session, data={"title": "Send proposal", "related_type": "deal", "related_id": deal.id}, actor=SYSTEM_ACTOR)
        drain(session)
        wf = make_workflow(session, {"trigger": {"type": "task_completed", "record_type": "deal"}, "steps": TAG})
        task_service.complete(session, task.id, actor=SYSTEM_ACTOR)
        drain(session)
        assert enrolled_ids(session, wf) == {deal.id}

    def test_task_overdue_is_found_by_the_periodic_check(self, session, factory, clock):
        late = task_service.create(session, data={"title": "Late", "due_at": clock() - timedelta(hours=2)}, actor=SYSTEM_ACTOR)
        task_service.create(session, data={"title": "Later", "due_at": clock() + timedelta(days=3)}, actor=SYSTEM_ACTOR)
        drain(session)
        wf = make_workflow(session, {"trigger": {"type": "task_overdue"}, "steps": TAG})
        drain(session)
        assert enrolled_ids(session, wf) == set()  # the first check is one interval after activation
        clock.advance(hours=1, minutes=1)
        drain(session)
        assert enrolled_ids(session, wf) == {late.id}
        clock.advance(hours=1, minutes=1)
        drain(session)
        assert len(enrollments(session, wf)) == 1  # once per record


class TestTimeBasedTriggers:
    def test_no_activity_for_n_days(self, session, factory, clock):
        quiet = factory.contact()
        busy = factory.contact()
        drain(session)
        clock.advance(days=10)
        factory.activity(type="call", subject="Call", contact_id=busy.id, occurred_at=clock() - timedelta(days=1))
        wf = make_workflow(session, {"trigger": {"type": "no_activity", "record_type": "contact", "days": 7}, "steps": TAG})
        clock.advance(hours=1, minutes=1)
        drain(session)
        assert quiet.created_at < clock() - timedelta(days=7)
        assert enrolled_ids(session, wf) == {quiet.id}

    def test_no_reply_after_a_touch(self, session, factory, clock):
        silent, answered = factory.contact(), factory.contact()
        for contact in (silent, answered):
            factory.activity(type="email", direction="outbound", subject="Hi", contact_id=contact.id, occurred_at=clock() - timedelta(days=5))
        factory.activity(type="email", direction="inbound", subject="Re: Hi", contact_id=answered.id, occurred_at=clock() - timedelta(days=4))
        wf = make_workflow(session, {"trigger": {"type": "no_reply", "days": 3}, "steps": TAG})
        clock.advance(hours=1, minutes=1)
        drain(session)
        assert enrolled_ids(session, wf) == {silent.id}

    @pytest.mark.parametrize(("when", "offset"), [("before", 30), ("after", -2)])
    def test_date_relative(self, session, factory, clock, when, offset):
        factory.pipeline()
        wf = make_workflow(session, {"trigger": {"type": "date_relative", "record_type": "deal", "field": "close_date", "days": abs(offset), "when": when}, "steps": TAG})
        tick_day = (clock() + timedelta(hours=1, minutes=1)).date()
        due = factory.deal(close_date=tick_day + timedelta(days=offset))
        factory.deal(close_date=tick_day + timedelta(days=offset + 1))
        clock.advance(hours=1, minutes=1)
        drain(session)
        assert enrolled_ids(session, wf) == {due.id}

    def test_schedule_enrolls_matching_records_at_each_slot(self, session, factory, clock):
        factory.pipeline()
        big = factory.deal(amount=Decimal("9000"))
        factory.deal(amount=Decimal("10"))
        wf = make_workflow(
            session,
            {"trigger": {"type": "schedule", "record_type": "deal", "cron": "0 * * * *"},
             "conditions": {"field": "amount", "op": "gt", "value": 5000},
             "steps": [{"id": "t", "type": "create_task", "title": "Review {{ record.name }}"}]},
        )
        clock.advance(hours=1)
        drain(session)
        assert enrolled_ids(session, wf) == {big.id}
        clock.advance(hours=1)
        drain(session)
        assert len(enrollments(session, wf)) == 2  # one run per slot


class TestManualTrigger:
    def test_chosen_records_are_enrolled_and_conditions_still_apply(self, session, factory, clock):
        a, b = factory.contact(title="CEO"), factory.contact(title="Intern")
        wf = make_workflow(session, {"trigger": {"type": "manual"}, "conditions": {"field": "title", "op": "eq", "value": "CEO"}, "steps": TAG})
        results = workflow_service.enroll_records(session, wf.id, [a.id, b.id, a.id], actor=MANAGER)
        assert [r.status for r in results] == ["enrolled", "not_enrolled", "already_enrolled"]
        assert results[1].reason == "contact.title Intern is not CEO"
        drain(session)
        assert tagged(session, a.id) and not tagged(session, b.id)
        assert date.today()  # noqa: keeps the import honest for readers
