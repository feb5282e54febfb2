"""After a meeting ends its host gets a "Log the outcome" task; held and no-show set the
meeting's status and are sales signals (``meeting.held`` / ``meeting.no_show``) a workflow
can start on; a reschedule closes the task; the web form offers the three outcomes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pipewise.automation.models import Enrollment
from pipewise.crm.models import Task
from pipewise.events.models import OutboxEvent
from pipewise.meetings import outcomes
from pipewise.meetings.models import Meeting
from pipewise.sequences.models import Enrollment as SequenceEnrollment
from pipewise.worker import runner
from tests.automation.support import MANAGER, make_workflow
from tests.meetings.support import book, first_slot, make_page, set_hours, slot_on_another_day, utc
from tests.sequences.support import Clock, email_step, live_sequence, run_worker


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock()
    monkeypatch.setattr(runner, "utcnow", moving.now)
    monkeypatch.setattr(outcomes, "utcnow", moving.now)
    return moving


def _meeting(api, session, factory):
    rep = factory.user()
    session.commit()
    headers = factory.headers(rep)
    set_hours(api, headers)
    make_page(api, headers)
    booked = book(api, "intro", first_slot(api, "intro"))
    assert booked.status_code == 201, booked.text
    run_worker()
    session.rollback()
    return rep, headers, booked.json(), session.scalar(select(Meeting))


def _outcome_tasks(session) -> list[Task]:
    session.rollback()
    return list(session.scalars(select(Task).where(Task.title.startswith("Log the outcome"))))


def _after_the_end(clock, meeting) -> None:
    clock.set(meeting.end_at + timedelta(seconds=1))
    run_worker()


class TestTheOutcomeTask:
    def test_the_host_is_asked_once_when_the_meeting_ends(self, api, session, factory, clock):
        rep, headers, booked, meeting = _meeting(api, session, factory)
        clock.set(meeting.end_at - timedelta(minutes=1))
        run_worker()
        assert _outcome_tasks(session) == []
        _after_the_end(clock, meeting)
        run_worker()
        [task] = _outcome_tasks(session)
        assert task.owner_id == rep.id and task.status == "open" and task.related_id == meeting.contact_id
        assert f"/meetings/{meeting.id}/outcome" in task.notes

    def test_no_show_over_the_api_is_a_signal_and_closes_the_task(self, api, session, factory, clock):
        rep, headers, booked, meeting = _meeting(api, session, factory)
        _after_the_end(clock, meeting)
        response = api.post(f"/api/v1/meetings/{meeting.id}/outcome", json={"status": "no_show"}, headers=headers)
        assert response.status_code == 200 and response.json()["status"] == "no_show"
        run_worker()
        [task] = _outcome_tasks(session)
        assert task.status == "done"
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "meeting.no_show")).all()
        assert event.record_id == meeting.id and event.payload["data"]["contact_id"] == str(meeting.contact_id)
        again = api.post(f"/api/v1/meetings/{meeting.id}/outcome", json={"status": "held"}, headers=headers)
        assert again.status_code == 409

    def test_another_teams_rep_cannot_log_it(self, api, session, factory, clock):
        rep, headers, booked, meeting = _meeting(api, session, factory)
        stranger = factory.user(team=factory.team("Elsewhere"))
        session.commit()
        _after_the_end(clock, meeting)
        response = api.post(f"/api/v1/meetings/{meeting.id}/outcome", json={"status": "held"}, headers=factory.headers(stranger))
        assert response.status_code == 404
        session.rollback()
        assert session.get(Meeting, meeting.id).status == "scheduled"


class TestNoShowStartsReBooking:
    def test_a_workflow_enrolls_the_contact_in_a_re_booking_sequence(self, api, session, factory, clock):
        rebook = live_sequence(session, "Re-book", [email_step("Sorry we missed you", "<p>Pick another time</p>")])
        workflow = make_workflow(session, {
            "trigger": {"type": "meeting_event", "event": "no_show", "record_type": "contact"},
            "steps": [{"id": "rebook", "type": "enroll_in_sequence", "sequence_id": str(rebook.id)}],
        }, actor=MANAGER)
        held_only = make_workflow(session, {"trigger": {"type": "meeting_event", "event": "held"},
                                            "steps": [{"id": "t", "type": "add_tag", "tag": "met"}]}, name="Held", actor=MANAGER)
        rep, headers, booked, meeting = _meeting(api, session, factory)
        _after_the_end(clock, meeting)
        assert api.post(f"/api/v1/meetings/{meeting.id}/outcome", json={"status": "no_show"}, headers=headers).status_code == 200
        run_worker()
        session.rollback()
        [enrollment] = session.scalars(select(Enrollment).where(Enrollment.workflow_id == workflow.id)).all()
        assert enrollment.record_id == meeting.contact_id
        assert session.scalars(select(Enrollment).where(Enrollment.workflow_id == held_only.id)).all() == []
        [rebooking] = session.scalars(select(SequenceEnrollment).where(SequenceEnrollment.sequence_id == rebook.id)).all()
        assert rebooking.contact_id == meeting.contact_id

    def test_a_meeting_trigger_enrolls_contacts_or_deals_only(self, api, session, factory):
        rep = factory.user(role="admin")
        session.commit()
        body = {"name": "Bad", "definition": {"trigger": {"type": "meeting_event", "event": "held", "record_type": "task"},
                                              "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]}}
        response = api.post("/api/v1/workflows", json=body, headers=factory.headers(rep))
        assert response.status_code == 422 and "contact or deal" in response.text


class TestWebForm:
    def test_held_from_the_form(self, api, web, session, factory, clock):
        rep, headers, booked, meeting = _meeting(api, session, factory)
        _after_the_end(clock, meeting)
        web.login(rep)
        page = web.get(f"/meetings/{meeting.id}/outcome")
        assert page.status_code == 200 and "No-show" in page.text and "Rescheduled to" in page.text
        response = web.post(f"/meetings/{meeting.id}/outcome", {"outcome": "held"}, follow_redirects=False)
        assert response.status_code == 303
        run_worker()
        session.rollback()
        assert session.get(Meeting, meeting.id).status == "held"
        assert [t.status for t in _outcome_tasks(session)] == ["done"]

    def test_rescheduled_from_the_form_moves_the_meeting_and_closes_the_task(self, api, web, session, factory, clock):
        rep, headers, booked, meeting = _meeting(api, session, factory)
        later = utc(slot_on_another_day(api, "intro", booked["start"]))
        _after_the_end(clock, meeting)
        web.login(rep)
        local = later.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")
        response = web.post(f"/meetings/{meeting.id}/outcome", {"outcome": "rescheduled", "start": local}, follow_redirects=False)
        assert response.status_code == 303, response.text
        run_worker()
        session.rollback()
        moved = session.get(Meeting, meeting.id)
        assert moved.status == "rescheduled" and moved.start_at == later
        assert [t.status for t in _outcome_tasks(session)] == ["done"]

    def test_a_bad_time_is_a_field_error(self, api, web, session, factory, clock):
        rep, headers, booked, meeting = _meeting(api, session, factory)
        web.login(rep)
        response = web.post(f"/meetings/{meeting.id}/outcome", {"outcome": "rescheduled", "start": "soon"}, follow_redirects=False)
        assert response.status_code in (400, 422) and "pick the new date and time" in response.text
