"""Reminders are durable timers: each fires once at its UTC instant (24 real hours before,
across a daylight-saving change), moves with a reschedule, goes with a cancel, and a worker
killed (SIGKILL) while it holds a due reminder leaves it for the next worker, which sends it
once. The invitee's reminder goes through the mail path to a real SMTP server."""

import multiprocessing
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pipewise.events.models import ScheduledAction
from pipewise.mail import clock as mail_clock
from pipewise.meetings import reminders
from pipewise.notifications.models import Notification
from pipewise.worker import runner
from tests.conftest import IS_POSTGRES
from tests.meetings.support import book, make_page, set_hours
from tests.sequences.support import Clock, mailbox, run_worker

# Sunday 28 March 2027: Europe/Berlin goes from UTC+1 to UTC+2 at 01:00 UTC. A meeting at
# 09:00 that Sunday (07:00 UTC) is reminded 24 h before at 07:00 UTC on Saturday — 08:00
# on Berlin's clocks that day, not 09:00.
MEETING = "2027-03-28T09:00:00+02:00"
START = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock()
    monkeypatch.setattr(runner, "utcnow", moving.now)
    monkeypatch.setattr(mail_clock, "now", moving.now)
    return moving


def _reminder_tasks(session) -> list[Notification]:
    """The host's reminders, in their inbox."""
    session.rollback()  # a new snapshot: the worker committed since
    return list(session.scalars(select(Notification).where(Notification.kind == "reminder",
                                                           Notification.title.startswith("Meeting in"))))


def _timers(session, status="pending") -> dict[str, datetime]:
    session.rollback()
    rows = session.scalars(select(ScheduledAction).where(ScheduledAction.kind == reminders.KIND, ScheduledAction.status == status))
    return {row.key: row.run_at for row in rows}


def _booked(api, session, factory, *, start=MEETING, **settings):
    rep = factory.user()
    mailbox(session, rep, send_days=[0, 1, 2, 3, 4, 5, 6], send_start_hour=0, send_end_hour=24)
    session.commit()
    headers = factory.headers(rep)
    set_hours(api, headers, horizon_days=200)
    if settings:
        assert api.put("/api/v1/meeting-reminders", json=settings, headers=headers).status_code == 200
    make_page(api, headers)
    response = book(api, "intro", start)
    assert response.status_code == 201, response.text
    run_worker()
    return rep, response.json()


class TestAcrossDaylightSaving:
    def test_each_reminder_fires_once_at_its_utc_instant(self, api, session, factory, clock):
        rep, booked = _booked(api, session, factory)
        assert sorted(_timers(session).values()) == [START - timedelta(hours=24), START - timedelta(hours=1)]

        clock.set(START - timedelta(hours=24, minutes=1))
        run_worker()
        assert _reminder_tasks(session) == []
        clock.set(START - timedelta(hours=24) + timedelta(seconds=1))
        run_worker()
        run_worker()
        [day_before] = _reminder_tasks(session)
        assert day_before.title.startswith("Meeting in 1 day") and day_before.user_id == rep.id
        clock.set(START - timedelta(minutes=59))
        run_worker()
        run_worker()
        assert sorted(t.title.split(":")[0] for t in _reminder_tasks(session)) == ["Meeting in 1 day", "Meeting in 1 hour"]
        assert _timers(session) == {}


class TestFollowingTheMeeting:
    def test_reschedule_moves_and_cancel_removes_the_reminders(self, api, session, factory, clock):
        rep, booked = _booked(api, session, factory)
        token = booked["manage_url"].rsplit("/", 1)[1]
        moved = api.post(f"/book/manage/{token}/reschedule", json={"start": "2027-03-28T13:00:00+02:00"})
        assert moved.status_code == 200, moved.text
        run_worker()
        new_start = START + timedelta(hours=4)
        assert sorted(_timers(session).values()) == [new_start - timedelta(hours=24), new_start - timedelta(hours=1)]
        assert len(_timers(session, "cancelled")) == 2

        clock.set(START - timedelta(hours=1) + timedelta(seconds=1))  # the old 1-hour reminder's time
        run_worker()
        assert [t.title.split(":")[0] for t in _reminder_tasks(session)] == ["Meeting in 1 day"]  # the new 24-hour one

        new_token = moved.json()["manage_url"].rsplit("/", 1)[1]
        assert api.post(f"/book/manage/{new_token}/cancel", json={}).status_code == 200
        run_worker()
        assert _timers(session) == {}
        clock.set(new_start)
        run_worker()
        assert len(_reminder_tasks(session)) == 1

    def test_moving_away_and_back_rearms_the_first_times(self, api, session, factory, clock):
        rep, booked = _booked(api, session, factory, offsets_minutes=[60])
        first = _timers(session)
        token = booked["manage_url"].rsplit("/", 1)[1]
        away = api.post(f"/book/manage/{token}/reschedule", json={"start": "2027-03-28T13:00:00+02:00"}).json()
        run_worker()
        assert _timers(session) != first
        back = api.post(f"/book/manage/{away['manage_url'].rsplit('/', 1)[1]}/reschedule", json={"start": MEETING})
        assert back.status_code == 200, back.text
        run_worker()
        assert _timers(session) == first
        clock.set(START - timedelta(minutes=59))
        run_worker()
        assert len(_reminder_tasks(session)) == 1

    def test_the_invitee_is_reminded_by_email_when_the_host_asks(self, api, session, factory, clock, smtp):
        rep, booked = _booked(api, session, factory, offsets_minutes=[120], remind_invitee=True)
        assert list(_timers(session).values()) == [START - timedelta(hours=2)]
        invites = len(smtp.handler.to("ada@example.com"))
        clock.set(START - timedelta(hours=2) + timedelta(seconds=1))
        run_worker()
        run_worker()
        reminders_sent = smtp.handler.to("ada@example.com")[invites:]
        assert [m["Subject"].split(":")[0] for m in reminders_sent] == ["Reminder"]
        assert "/book/manage/" in reminders_sent[0].get_body(("plain",)).get_content()

    def test_bad_offsets_are_named(self, api, session, factory):
        rep = factory.user()
        session.commit()
        response = api.put("/api/v1/meeting-reminders", json={"offsets_minutes": [60, 0, 99999]}, headers=factory.headers(rep))
        assert response.status_code == 422
        assert {"offsets_minutes.1", "offsets_minutes.2"} <= {e["field"] for e in response.json()["errors"]}


def _claim_send_and_die(key: str) -> None:
    """A worker that claims the due reminder, runs it, and is killed before it commits."""
    from pipewise import domains
    from pipewise.db.session import get_sessionmaker, reset_engine

    reset_engine()
    domains.load()
    session = get_sessionmaker()()
    action = session.scalars(select(ScheduledAction).where(ScheduledAction.key == key).with_for_update()).one()
    reminders.run_reminder(session, action)
    action.status = "done"
    session.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class TestWorkerKilled:
    def test_a_worker_killed_holding_a_reminder_does_not_lose_or_double_it(self, api, session, factory, clock):
        rep, booked = _booked(api, session, factory, offsets_minutes=[60])
        [key] = _timers(session)
        clock.set(START - timedelta(minutes=59))
        session.rollback()
        victim = multiprocessing.get_context("spawn").Process(target=_claim_send_and_die, args=(key,))
        victim.start()
        victim.join(60)
        assert victim.exitcode == -signal.SIGKILL
        assert _reminder_tasks(session) == [] and key in _timers(session)  # its work died with it
        session.rollback()
        run_worker()
        run_worker()
        assert len(_reminder_tasks(session)) == 1
        assert _timers(session, "done").keys() == {key}

    @pytest.mark.skipif(not IS_POSTGRES, reason="row locks: another worker skips a claimed timer (PostgreSQL)")
    def test_a_claimed_reminder_is_skipped_by_another_worker_until_released(self, api, session, factory, clock):
        rep, booked = _booked(api, session, factory, offsets_minutes=[60])
        [key] = _timers(session)
        session.rollback()
        clock.set(START - timedelta(minutes=59))
        from pipewise.db.session import get_sessionmaker

        holder = get_sessionmaker()()
        try:
            action = holder.scalars(select(ScheduledAction).where(ScheduledAction.key == key).with_for_update()).one()
            reminders.run_reminder(holder, action)
            holder.flush()
            runner.Worker(name="other").run_due_actions_once()  # skips the claimed reminder
            assert key in _timers(session) and _reminder_tasks(session) == []
        finally:
            holder.rollback()  # the holder dies before committing
            holder.close()
        run_worker()
        assert len(_reminder_tasks(session)) == 1
