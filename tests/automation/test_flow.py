"""Wait (duration, business days, until a date, until an event), branch and goal."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import RecordTag
from pipewise.automation.service import workflow_service
from pipewise.automation.timing import add_business_days
from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service
from pipewise.deals.service import deal_service
from tests.automation.support import MANAGER, drain, emit, kinds, make_workflow, messages, only_enrollment


def tags(session, record_id) -> set[str]:
    return set(session.scalars(select(RecordTag.tag).where(RecordTag.record_id == record_id)))


def start(session, factory, steps, record=None, record_type="contact", **extra):
    record = record or factory.contact()
    wf = make_workflow(session, {"trigger": {"type": "manual", "record_type": record_type}, "steps": steps, **extra})
    workflow_service.enroll_records(session, wf.id, [record.id], actor=MANAGER)
    drain(session)
    return wf, record


class TestWait:
    def test_duration(self, session, factory, clock):
        wf, contact = start(session, factory, [{"id": "w", "type": "wait", "duration": "3d"}, {"id": "t", "type": "add_tag", "tag": "after"}])
        enrollment = only_enrollment(session, wf)
        assert enrollment.status == "waiting" and enrollment.wait_until == clock() + timedelta(days=3)
        clock.advance(days=2, hours=23)
        drain(session)
        assert tags(session, contact.id) == set()
        clock.advance(hours=1)
        drain(session)
        assert tags(session, contact.id) == {"after"}
        assert kinds(session, contact.id) == ["enrolled", "waiting", "waited", "acted", "completed"]

    def test_business_days_skip_the_weekend(self, session, factory, clock):
        friday = datetime(2030, 3, 1, 10, tzinfo=timezone.utc)  # a Friday
        clock.current = friday
        wf, contact = start(session, factory, [{"id": "w", "type": "wait", "business_days": 2}, {"id": "t", "type": "add_tag", "tag": "x"}])
        assert only_enrollment(session, wf).wait_until == datetime(2030, 3, 5, 10, tzinfo=timezone.utc)
        assert add_business_days(friday, 1).weekday() == 0

    def test_until_a_date_field_follows_the_date_when_it_moves(self, session, factory, clock):
        factory.pipeline()
        today = clock().date()
        deal = factory.deal(close_date=today + timedelta(days=10))
        wf, _ = start(
            session, factory,
            [{"id": "w", "type": "wait", "until": "close_date", "offset_days": -3}, {"id": "t", "type": "add_tag", "tag": "soon"}],
            record=deal, record_type="deal",
        )
        midnight = datetime.combine(today, datetime.min.time(), timezone.utc)
        assert only_enrollment(session, wf).wait_until == midnight + timedelta(days=7)
        deal_service.update(session, deal, data={"close_date": today + timedelta(days=20)}, actor=SYSTEM_ACTOR)
        clock.current = midnight + timedelta(days=7, minutes=1)
        drain(session)
        enrollment = only_enrollment(session, wf)
        assert enrollment.status == "waiting" and enrollment.wait_until == midnight + timedelta(days=17)
        assert "the date moved" in messages(session, deal.id)[-1]
        clock.current = midnight + timedelta(days=17, minutes=1)
        drain(session)
        assert tags(session, deal.id) == {"soon"}

    def test_until_an_empty_date_does_not_wait(self, session, factory, clock):
        factory.pipeline()
        deal = factory.deal(close_date=None)
        start(session, factory, [{"id": "w", "type": "wait", "until": "close_date"}, {"id": "t", "type": "add_tag", "tag": "x"}], record=deal, record_type="deal")
        assert tags(session, deal.id) == {"x"}

    def test_until_an_event_that_arrives(self, session, factory, clock):
        steps = [
            {"id": "w", "type": "wait", "event": "email.replied", "timeout": "7d", "on_timeout": "nudge"},
            {"id": "thanks", "type": "add_tag", "tag": "replied", "next": "end"},
            {"id": "nudge", "type": "add_tag", "tag": "silent"},
        ]
        wf, contact = start(session, factory, steps)
        clock.advance(days=1)
        emit(session, "email.replied", "contact", contact.id)
        drain(session)
        assert tags(session, contact.id) == {"replied"}
        assert "waited: email.replied arrived" in messages(session, contact.id)
        clock.advance(days=8)
        drain(session)
        assert tags(session, contact.id) == {"replied"}  # the timeout was cancelled

    def test_until_an_event_that_times_out(self, session, factory, clock):
        steps = [
            {"id": "w", "type": "wait", "event": "email.replied", "timeout": "7d", "on_timeout": "nudge"},
            {"id": "thanks", "type": "add_tag", "tag": "replied", "next": "end"},
            {"id": "nudge", "type": "add_tag", "tag": "silent"},
        ]
        wf, contact = start(session, factory, steps)
        emit(session, "email.opened", "contact", contact.id)
        clock.advance(days=7, seconds=1)
        drain(session)
        assert tags(session, contact.id) == {"silent"}
        assert only_enrollment(session, wf).status == "completed"


class TestBranch:
    def test_if_else(self, session, factory, clock):
        factory.pipeline()
        steps = [
            {"id": "b", "type": "branch", "condition": {"field": "amount", "op": "gte", "value": 5000}, "else": "small"},
            {"id": "big", "type": "add_tag", "tag": "big", "next": "end"},
            {"id": "small", "type": "add_tag", "tag": "small"},
        ]
        _, big = start(session, factory, steps, record=factory.deal(amount=Decimal("9000")), record_type="deal")
        assert tags(session, big.id) == {"big"}
        _, small = start(session, factory, steps, record=factory.deal(amount=Decimal("100")), record_type="deal")
        assert tags(session, small.id) == {"small"}
        assert "branched: deal.amount 100 is below 5,000 → no, next: small" in messages(session, small.id)


class TestGoal:
    def test_workflow_goal_is_checked_on_every_related_event(self, session, factory, clock):
        contact = factory.contact()
        wf, _ = start(
            session, factory,
            [{"id": "w", "type": "wait", "duration": "2d"}, {"id": "t", "type": "add_tag", "tag": "nudge"}],
            record=contact, goal={"field": "lifecycle_stage", "op": "eq", "value": "customer"},
        )
        contact_service.update(session, contact, data={"lifecycle_stage": "customer"}, actor=SYSTEM_ACTOR)
        drain(session)
        enrollment = only_enrollment(session, wf)
        assert enrollment.status == "exited"
        assert messages(session, contact.id)[-1] == "exited: goal met on contact.updated: contact.lifecycle_stage customer is customer"
        clock.advance(days=3)
        drain(session)
        assert tags(session, contact.id) == set()

    def test_goal_step_arms_a_goal_that_is_rechecked_when_the_next_step_runs(self, session, factory, clock):
        contact = factory.contact(title="Buyer")
        wf, _ = start(
            session, factory,
            [{"id": "g", "type": "goal", "condition": {"field": "title", "op": "eq", "value": "Champion"}},
             {"id": "w", "type": "wait", "duration": "1d"}, {"id": "t", "type": "add_tag", "tag": "nudge"}],
            record=contact,
        )
        # changed without an event (as an import might): the step re-checks when it runs
        session.get(Contact, contact.id).title = "Champion"
        clock.advance(days=1, seconds=1)
        drain(session)
        assert only_enrollment(session, wf).status == "exited"
        assert tags(session, contact.id) == set()
