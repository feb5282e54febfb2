"""Tasks grow up, through the API and the worker: a reminder notifies the assignee once
(a durable timer, also across workers), snooze moves it, a recurring task makes its next
occurrence once, and the signed .ics feed carries one's own tasks and meetings."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from sqlalchemy import select, update

from pipewise.crm.models import Task
from pipewise.events.models import ScheduledAction
from pipewise.notifications.models import Notification
from pipewise.worker.runner import Worker


def _reminders(session):  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.kind == "reminder")))


def _run_timers_now(session) -> None:  # type: ignore[no-untyped-def]
    """Make every pending timer due, then let two workers, one after the other, drain them."""
    session.execute(update(ScheduledAction).where(ScheduledAction.status == "pending").values(run_at=datetime(2000, 1, 1, tzinfo=UTC)))
    session.commit()
    Worker(name="first").run_until_idle()
    Worker(name="after a restart").run_until_idle()


class TestReminder:
    def test_reminds_the_assignee_exactly_once(self, api, session, factory):
        rep = factory.user()
        session.commit()
        remind = datetime.now(UTC) + timedelta(hours=1)
        r = api.post("/api/v1/tasks", json={"title": "Send the proposal", "due_at": (remind + timedelta(hours=2)).isoformat(),
                                            "remind_at": remind.isoformat()}, headers=factory.headers(rep))
        assert r.status_code == 201 and r.json()["remind_at"] is not None
        Worker(name="early").run_until_idle()
        assert _reminders(session) == []  # not due yet
        _run_timers_now(session)
        (note,) = _reminders(session)
        assert note.user_id == rep.id and note.title.startswith("Reminder: Send the proposal (due ")
        assert session.get(Task, uuid.UUID(r.json()["id"])).reminded_at is not None

    def test_snooze_moves_the_reminder_and_the_old_timer_stays_quiet(self, api, session, factory):
        rep = factory.user()
        session.commit()
        now = datetime.now(UTC)
        task = api.post("/api/v1/tasks", json={"title": "Chase", "due_at": (now + timedelta(hours=1)).isoformat(),
                                               "remind_at": (now + timedelta(minutes=30)).isoformat()}, headers=factory.headers(rep)).json()
        later = now + timedelta(hours=3)
        r = api.post(f"/api/v1/tasks/{task['id']}/snooze", json={"until": later.isoformat()}, headers=factory.headers(rep))
        assert r.status_code == 200
        assert datetime.fromisoformat(r.json()["remind_at"]) == later == datetime.fromisoformat(r.json()["due_at"])
        assert session.query(ScheduledAction).filter(ScheduledAction.kind == "crm.task_reminder").count() == 2
        _run_timers_now(session)
        (note,) = _reminders(session)
        assert note.title.startswith("Reminder: Chase")

    def test_snooze_into_the_past_or_of_a_hidden_task_is_refused(self, api, session, factory):
        rep, stranger = factory.user(team=factory.team()), factory.user(team=factory.team())
        task = factory.task(rep, title="Mine")
        session.commit()
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        r = api.post(f"/api/v1/tasks/{task.id}/snooze", json={"until": past}, headers=factory.headers(rep))
        assert r.status_code == 422 and "until" in r.text
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert api.post(f"/api/v1/tasks/{task.id}/snooze", json={"until": future}, headers=factory.headers(stranger)).status_code == 404

    def test_a_done_task_is_not_reminded(self, api, session, factory):
        rep = factory.user()
        task = factory.task(rep, title="Done early", remind_at=datetime.now(UTC) + timedelta(hours=1))
        session.commit()
        api.post(f"/api/v1/tasks/{task.id}/complete", headers=factory.headers(rep)).raise_for_status()
        _run_timers_now(session)
        assert _reminders(session) == []


class TestRecurrence:
    def test_completing_makes_the_next_occurrence_once_and_count_runs_out(self, api, session, factory):
        rep = factory.user()
        session.commit()
        headers = factory.headers(rep)
        due = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday
        first = api.post("/api/v1/tasks", json={"title": "Pipeline review", "due_at": due.isoformat(),
                                                "remind_at": (due - timedelta(minutes=15)).isoformat(),
                                                "recurrence": "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"}, headers=headers).json()
        assert first["recurrence"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
        done = api.post(f"/api/v1/tasks/{first['id']}/complete", headers=headers).json()
        again = api.post(f"/api/v1/tasks/{first['id']}/complete", headers=headers).json()
        assert done["next_task_id"] and again["next_task_id"] == done["next_task_id"]
        second = api.get(f"/api/v1/tasks/{done['next_task_id']}", headers=headers).json()
        assert datetime.fromisoformat(second["due_at"]) == due + timedelta(days=7)
        assert datetime.fromisoformat(second["remind_at"]) == due + timedelta(days=7, minutes=-15)
        assert second["recurrence"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=2" and second["status"] == "open"
        third_id = api.patch(f"/api/v1/tasks/{second['id']}", json={"status": "done"}, headers=headers).json()["next_task_id"]
        third = api.get(f"/api/v1/tasks/{third_id}", headers=headers).json()
        assert datetime.fromisoformat(third["due_at"]) == due + timedelta(days=14) and third["recurrence"] is None
        assert api.post(f"/api/v1/tasks/{third_id}/complete", headers=headers).json()["next_task_id"] is None
        assert session.query(Task).filter(Task.title == "Pipeline review").count() == 3

    def test_a_bad_rule_or_one_without_a_due_time_is_a_field_error(self, api, session, factory):
        rep = factory.user()
        session.commit()
        headers = factory.headers(rep)
        for body, field in (({"title": "x", "due_at": "2030-01-07T09:00:00Z", "recurrence": "FREQ=SOMETIMES"}, "recurrence"),
                            ({"title": "x", "due_at": "2030-01-07T09:00:00Z", "recurrence": "DTSTART:20300101\nRRULE:FREQ=DAILY"}, "recurrence"),
                            ({"title": "x", "recurrence": "FREQ=DAILY"}, "due_at")):
            r = api.post("/api/v1/tasks", json=body, headers=headers)
            assert r.status_code == 422 and any(e["field"] == field for e in r.json()["errors"]), r.text
        assert session.query(Task).count() == 0
        repeating = api.post("/api/v1/tasks", json={"title": "x", "due_at": "2030-01-07T09:00:00Z", "recurrence": "FREQ=DAILY"},
                             headers=headers).json()
        r = api.patch(f"/api/v1/tasks/{repeating['id']}", json={"due_at": None}, headers=headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "due_at"


class TestFeed:
    def _feed(self, api, url):  # type: ignore[no-untyped-def]
        parts = urlsplit(url)
        return api.get(parts.path)

    def test_the_signed_feed_carries_ones_own_calendar_and_a_new_address_ends_the_old(self, api, session, factory):
        rep, other = factory.user(), factory.user()
        factory.task(rep, title="Demo prep", due_at=datetime.now(UTC) + timedelta(days=1))
        contact = factory.contact(rep)
        factory.activity(rep, type="meeting", subject="Kick-off with Ada", contact_id=contact.id, duration_minutes=45)
        factory.task(other, title="Not yours", due_at=datetime.now(UTC) + timedelta(days=1))
        session.commit()
        headers = factory.headers(rep)
        assert api.get("/api/v1/calendar-feed", headers=headers).json() == {"url": None}
        url = api.post("/api/v1/calendar-feed", headers=headers).json()["url"]
        assert api.get("/api/v1/calendar-feed", headers=headers).json() == {"url": url}

        r = self._feed(api, url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
        events = icalendar.Calendar.from_ical(r.content).walk("VEVENT")
        assert sorted(str(e["SUMMARY"]) for e in events) == ["Kick-off with Ada", "Task: Demo prep"]
        meeting = next(e for e in events if str(e["SUMMARY"]) == "Kick-off with Ada")
        assert meeting.decoded("DTEND") - meeting.decoded("DTSTART") == timedelta(minutes=45)

        new_url = api.post("/api/v1/calendar-feed", headers=headers).json()["url"]
        assert new_url != url and self._feed(api, url).status_code == 404 and self._feed(api, new_url).status_code == 200

    def test_a_forged_or_altered_key_is_not_found(self, api, session, factory):
        rep, victim = factory.user(), factory.user()
        session.commit()
        url = api.post("/api/v1/calendar-feed", headers=factory.headers(rep)).json()["url"]
        api.post("/api/v1/calendar-feed", headers=factory.headers(victim)).raise_for_status()
        path = urlsplit(url).path
        key = path.rsplit("/", 1)[1].removesuffix(".ics")
        payload, _, signature = key.rpartition(".")
        forged = base64.urlsafe_b64encode(json.dumps({"u": str(victim.id), "t": "guess"}).encode()).decode().rstrip("=")
        # The first character of the signature: its last one also carries padding bits, and
        # another character with the same leading bits decodes to the same signature.
        altered = ("B" if signature[0] == "A" else "A") + signature[1:]
        for bad in (f"{forged}.{signature}", f"{payload}.{altered}", "nonsense"):
            assert api.get(f"/calendar/feed/{bad}.ics").status_code == 404
