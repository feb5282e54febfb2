"""Calendar sync against a real CalDAV server (Radicale, started here on loopback): one
event per meeting through booking, reschedule and cancel; busy times read from the
calendar hide the slots they overlap; a failed write is retried by the worker; the app
password is stored encrypted and the calendar address passes the outbound-address rules."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from icalendar import Event
from sqlalchemy import select

from pipewise.config import get_settings
from pipewise.events.models import EventDelivery
from pipewise.meetings.calendar_sync import forget_cached_busy_times
from pipewise.meetings.models import Meeting
from pipewise.meetings.sync_models import CalendarConnection
from tests.meetings import caldav_server
from tests.meetings.support import book, first_slot, make_page, set_hours, slot_on_another_day, utc
from tests.sequences.support import run_worker


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[caldav_server.Radicale]:
    server = caldav_server.start(tmp_path_factory.mktemp("radicale"))
    yield server
    caldav_server.stop(server)


@pytest.fixture
def calendar(radicale: caldav_server.Radicale) -> Iterator[caldav_server.Radicale]:
    """The server's calendar, emptied, with loopback allowed for this test only."""
    for event in radicale.events():
        event.delete()
    forget_cached_busy_times()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPEWISE_OUTBOUND_ALLOW", "127.0.0.1")
        get_settings.cache_clear()
        yield radicale
    get_settings.cache_clear()
    forget_cached_busy_times()


def _connect(api, headers, server, password=caldav_server.PASSWORD):
    body = {"url": server.calendar_url, "username": caldav_server.USER, "password": password}
    response = api.put("/api/v1/calendar-connection", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _only_event(server) -> Event:
    [stored] = server.events()
    [event] = stored.icalendar_instance.walk("VEVENT")
    return event


def _host(api, session, factory):
    rep = factory.user()
    session.commit()
    headers = factory.headers(rep)
    set_hours(api, headers)
    make_page(api, headers)
    return rep, headers


class TestWritingMeetings:
    def test_book_reschedule_cancel_leave_one_event_in_its_last_state(self, api, session, factory, calendar):
        rep, headers = _host(api, session, factory)
        _connect(api, headers, calendar)
        booked = book(api, "intro", first_slot(api, "intro")).json()
        assert calendar.events() == []  # nothing leaves before the commit, from the worker
        run_worker()
        session.expire_all()
        meeting = session.scalar(select(Meeting))
        event = _only_event(calendar)
        assert str(event["uid"]) == meeting.uid and int(event["sequence"]) == 0
        assert event.decoded("dtstart") == utc(booked["start"]) and str(event["status"]) == "CONFIRMED"
        assert "method" not in stored_calendar(calendar)

        later = slot_on_another_day(api, "intro", booked["start"])
        token = booked["manage_url"].rsplit("/", 1)[1]
        moved = api.post(f"/book/manage/{token}/reschedule", json={"start": later})
        assert moved.status_code == 200, moved.text
        run_worker()
        event = _only_event(calendar)
        assert str(event["uid"]) == meeting.uid and int(event["sequence"]) == 1 and event.decoded("dtstart") == utc(later)

        new_token = moved.json()["manage_url"].rsplit("/", 1)[1]
        assert api.post(f"/book/manage/{new_token}/cancel", json={}).status_code == 200
        run_worker()
        event = _only_event(calendar)
        assert str(event["uid"]) == meeting.uid and int(event["sequence"]) == 2 and str(event["status"]) == "CANCELLED"

    def test_a_failed_write_is_retried_by_the_worker(self, api, session, factory, calendar):
        rep, headers = _host(api, session, factory)
        _connect(api, headers, calendar, password="wrong")
        book(api, "intro", first_slot(api, "intro"))
        run_worker()
        session.expire_all()
        delivery = session.scalar(select(EventDelivery).where(EventDelivery.subscriber == "meetings.calendar_sync"))
        assert delivery.status == "retry" and "refused the user name or app password" in delivery.last_error
        assert calendar.events() == []
        session.rollback()

        _connect(api, headers, calendar)  # the right app password
        delivery = session.get(EventDelivery, delivery.id)
        delivery.next_attempt_at -= timedelta(hours=1)
        session.commit()
        run_worker()
        session.expire_all()
        assert session.get(EventDelivery, delivery.id).status == "done"
        assert str(_only_event(calendar)["uid"]) == session.scalar(select(Meeting)).uid

    def test_a_host_without_a_calendar_books_as_before(self, api, session, factory, calendar):
        _host(api, session, factory)
        assert book(api, "intro", first_slot(api, "intro")).status_code == 201
        run_worker()
        session.expire_all()
        assert session.scalar(select(EventDelivery)) is None and calendar.events() == []


def stored_calendar(server):
    [stored] = server.events()
    return stored.icalendar_instance


class TestBusyTimes:
    def test_an_event_on_the_calendar_hides_the_slots_it_overlaps(self, api, session, factory, calendar):
        rep, headers = _host(api, session, factory)
        _connect(api, headers, calendar)
        before = {utc(s) for s in _slots(api)}
        # The first slot of a whole working day (09:00-17:00 Berlin), whatever the time now.
        slot = min(s for s in before if s.date() >= min(before).date() + timedelta(days=2))
        assert slot + timedelta(minutes=30) in before and slot + timedelta(hours=2) in before
        calendar.calendar().save_event(
            dtstart=slot, dtend=slot + timedelta(minutes=45), summary="Dentist", uid="dentist@example.com"
        )
        calendar.calendar().save_event(  # a free (transparent) event blocks nothing
            dtstart=slot + timedelta(hours=2), dtend=slot + timedelta(hours=3), summary="Focus", uid="focus@example.com",
            transp="TRANSPARENT",
        )
        forget_cached_busy_times()
        after = {utc(s) for s in _slots(api)}
        hidden = before - after
        assert slot in hidden and slot + timedelta(minutes=30) in hidden
        assert slot + timedelta(minutes=45) in after and slot + timedelta(hours=2) in after
        assert book(api, "intro", slot.isoformat()).status_code == 409  # booking reads the same busy times

    def test_an_unreachable_calendar_counts_as_free_and_tells_its_owner(self, api, session, factory, calendar):
        rep, headers = _host(api, session, factory)
        _connect(api, headers, calendar, password="wrong")
        assert _slots(api)  # the page still works
        shown = api.get("/api/v1/calendar-connection", headers=headers).json()
        assert shown["connected"] and "refused" in shown["last_error"]


def _slots(api):
    days = api.get("/book/intro/slots", params={"tz": "UTC", "days": 7}).json()["days"]
    return [s for day in days.values() for s in day]


class TestConnection:
    def test_password_is_encrypted_and_never_returned(self, api, session, factory, calendar):
        rep, headers = _host(api, session, factory)
        shown = _connect(api, headers, calendar)
        assert shown == {"connected": True, "url": calendar.calendar_url, "username": "rep", "last_read_at": None, "last_error": None}
        row = session.get(CalendarConnection, rep.id)
        assert row.password.startswith("fernet:") and caldav_server.PASSWORD not in row.password
        assert caldav_server.PASSWORD not in api.get("/api/v1/calendar-connection", headers=headers).text
        # Saving without a password keeps the stored one.
        kept = api.put("/api/v1/calendar-connection", json={"url": calendar.calendar_url, "username": "rep"}, headers=headers)
        assert kept.status_code == 200
        session.expire_all()
        assert session.get(CalendarConnection, rep.id).password == row.password
        assert api.delete("/api/v1/calendar-connection", headers=headers).status_code == 204
        assert api.get("/api/v1/calendar-connection", headers=headers).json() == {
            "connected": False, "url": None, "username": None, "last_read_at": None, "last_error": None}

    @pytest.mark.parametrize("url", [
        "http://127.0.0.1:5232/rep/work/", "http://localhost/dav/", "http://169.254.169.254/latest/",
        "http://[::1]/dav/", "http://10.0.0.5/dav/", "file:///etc/passwd", "https://user:pw@caldav.example.com/",
    ])
    def test_internal_and_odd_addresses_are_refused(self, api, session, factory, url):
        rep = factory.user()
        session.commit()
        body = {"url": url, "username": "rep", "password": "x"}
        response = api.put("/api/v1/calendar-connection", json=body, headers=factory.headers(rep))
        assert response.status_code == 422 and "url" in response.text
        assert session.scalar(select(CalendarConnection)) is None

    def test_a_name_that_resolves_inside_is_refused_when_connecting(self, api, session, factory, calendar):
        """Saved under a name, checked again after resolution on every connection."""
        rep, headers = _host(api, session, factory)
        _connect(api, headers, calendar)
        get_settings.cache_clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PIPEWISE_OUTBOUND_ALLOW", "")
            get_settings.cache_clear()
            forget_cached_busy_times()
            assert _slots(api)
            shown = api.get("/api/v1/calendar-connection", headers=headers).json()
        assert "loopback" in shown["last_error"]

    def test_missing_fields_are_named(self, api, session, factory):
        rep = factory.user()
        session.commit()
        response = api.put("/api/v1/calendar-connection", json={"url": "", "username": ""}, headers=factory.headers(rep))
        assert response.status_code == 422
        assert {"url", "username", "password"} <= {e["field"] for e in response.json()["errors"]}


class TestWebPage:
    def test_connect_and_set_reminders_from_the_page(self, api, web, session, factory, calendar):
        rep = factory.user()
        session.commit()
        web.login(rep)
        assert "App password" in web.get("/meetings/calendar").text
        bad = web.post("/meetings/calendar", {"action": "connect", "url": "http://169.254.169.254/", "username": "rep",
                                              "password": "x"}, follow_redirects=False)
        assert bad.status_code in (400, 422) and "link-local" in bad.text
        done = web.post("/meetings/calendar", {"action": "connect", "url": calendar.calendar_url, "username": "rep",
                                               "password": caldav_server.PASSWORD}, follow_redirects=False)
        assert done.status_code == 303
        page = web.get("/meetings/calendar").text
        assert calendar.calendar_url in page and caldav_server.PASSWORD not in page
        saved = web.post("/meetings/calendar", {"action": "reminders", "offsets_minutes": "60, 1440", "remind_invitee": "on"},
                         follow_redirects=False)
        assert saved.status_code == 303
        assert api.get("/api/v1/meeting-reminders", headers=factory.headers(rep)).json() == {
            "offsets_minutes": [1440, 60], "remind_invitee": True}
        wrong = web.post("/meetings/calendar", {"action": "reminders", "offsets_minutes": "soon"}, follow_redirects=False)
        assert wrong.status_code in (400, 422) and "minutes before the start" in wrong.text
