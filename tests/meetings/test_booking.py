from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from pipewise.crm.models import Activity, Contact, Task
from pipewise.mail.models import EmailMessage
from pipewise.meetings.models import Meeting
from tests.meetings.support import book, first_slot, make_page, set_hours, slot_on_another_day, utc


def _calendar(message: EmailMessage) -> Calendar:
    return Calendar.from_ical(message.ical)


class TestPublicBooking:
    def test_booking_creates_contact_activity_task_and_invite(self, api, session, factory):
        rep = factory.user()
        session.commit()
        headers = factory.headers(rep)
        set_hours(api, headers)
        make_page(api, headers, questions=[{"key": "company", "label": "Company", "required": True}])
        slot = first_slot(api, "intro", tz="America/New_York")
        assert slot.endswith("-05:00") or slot.endswith("-04:00")

        missing = book(api, "intro", slot)
        assert missing.status_code == 422 and "answers.company" in missing.text

        response = book(api, "intro", slot, answers={"company": "Engines"})
        assert response.status_code == 201, response.text
        session.expire_all()
        meeting = session.scalar(select(Meeting))
        assert meeting.host_id == rep.id and meeting.start_at == utc(slot) and meeting.timezone == "America/New_York"
        contact = session.get(Contact, meeting.contact_id)
        assert contact.email == "ada@example.com" and contact.owner_id == rep.id
        activity = session.scalar(select(Activity).where(Activity.contact_id == contact.id))
        assert activity.type == "meeting" and activity.occurred_at == meeting.start_at
        assert session.scalar(select(Task).where(Task.owner_id == rep.id)).title.startswith("Meeting booked")
        invite = session.scalar(select(EmailMessage).where(EmailMessage.to_address == "ada@example.com"))
        event = _calendar(invite).walk("VEVENT")[0]
        assert str(_calendar(invite)["method"]) == "REQUEST"
        assert str(event["uid"]) == meeting.uid and int(event["sequence"]) == 0

        again = book(api, "intro", slot, email="bob@example.com", answers={"company": "B"})
        assert again.status_code == 409 and "just taken" in again.json()["detail"]

    def test_same_email_matches_the_existing_contact(self, api, session, factory):
        rep = factory.user()
        existing = factory.contact(rep, last_name="Lovelace", email="ada@example.com")
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        assert book(api, "intro", first_slot(api, "intro"), email="ADA@example.com").status_code == 201
        session.expire_all()
        assert session.scalar(select(Meeting)).contact_id == existing.id
        assert len(session.scalars(select(Contact)).all()) == 1

    def test_honeypot_writes_nothing(self, api, session, factory):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        assert book(api, "intro", first_slot(api, "intro"), website="http://spam").status_code == 201
        session.expire_all()
        assert session.scalar(select(Meeting)) is None

    def test_rate_limited_per_address(self, api, session, factory):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep), rate_limit_per_hour=1)
        assert book(api, "intro", first_slot(api, "intro")).status_code == 201
        response = book(api, "intro", first_slot(api, "intro"), email="eve@example.com")
        assert response.status_code == 429 and response.headers["Retry-After"]

    def test_reschedule_and_cancel_from_the_signed_link(self, api, session, factory):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        booked = book(api, "intro", first_slot(api, "intro")).json()
        token = booked["manage_url"].rsplit("/", 1)[1]
        later = slot_on_another_day(api, "intro", booked["start"])
        moved = api.post(f"/book/manage/{token}/reschedule", json={"start": later})
        assert moved.status_code == 200, moved.text
        assert api.post(f"/book/manage/{token}/cancel", json={}).status_code == 404  # the old link died
        new_token = moved.json()["manage_url"].rsplit("/", 1)[1]
        assert api.post(f"/book/manage/{new_token}/cancel", json={"reason": "ill"}).status_code == 200
        session.expire_all()
        meeting = session.scalar(select(Meeting))
        assert meeting.status == "cancelled" and meeting.sequence == 2 and meeting.start_at == utc(later)
        sent = session.scalars(select(EmailMessage).order_by(EmailMessage.created_at)).all()
        methods = [(str(_calendar(m)["method"]), int(_calendar(m).walk("VEVENT")[0]["sequence"])) for m in sent]
        assert methods == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]
        assert {str(_calendar(m).walk("VEVENT")[0]["uid"]) for m in sent} == {meeting.uid}

    def test_forged_link_is_refused(self, api):
        assert api.post("/book/manage/not-a-token/cancel", json={}).status_code == 404


class TestVisibility:
    def test_a_rep_cannot_reach_another_teams_page_or_meeting(self, api, session, factory):
        red, blue = factory.team("Red"), factory.team("Blue")
        alice, bob = factory.user(team=red), factory.user(team=blue)
        session.commit()
        set_hours(api, factory.headers(alice))
        page = make_page(api, factory.headers(alice))
        book(api, "intro", first_slot(api, "intro"))
        meeting_id = api.get("/api/v1/meetings", headers=factory.headers(alice)).json()[0]["id"]
        bob_headers = factory.headers(bob)
        assert api.get("/api/v1/booking-pages", headers=bob_headers).json() == []
        assert api.get(f"/api/v1/booking-pages/{page['id']}", headers=bob_headers).status_code == 404
        assert api.patch(f"/api/v1/booking-pages/{page['id']}", json={"title": "x"}, headers=bob_headers).status_code == 404
        assert api.get("/api/v1/meetings", headers=bob_headers).json() == []
        assert api.post(f"/api/v1/meetings/{meeting_id}/cancel", json={}, headers=bob_headers).status_code == 404
        # Nor may a rep make another team's user a host of their own page.
        response = api.post("/api/v1/booking-pages", json={"slug": "mine", "title": "t", "kind": "round_robin",
                                                             "hosts": [{"user_id": str(alice.id)}]}, headers=bob_headers)
        assert response.status_code == 422 and "hosts.0.user_id" in response.text


class TestOutcome:
    def test_held_and_no_show_are_recorded_once_as_signals(self, api, session, factory):
        from pipewise.events.models import OutboxEvent

        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        book(api, "intro", first_slot(api, "intro"))
        meeting_id = api.get("/api/v1/meetings", headers=factory.headers(rep)).json()[0]["id"]
        response = api.post(f"/api/v1/meetings/{meeting_id}/outcome", json={"status": "no_show"}, headers=factory.headers(rep))
        assert response.status_code == 200 and response.json()["status"] == "no_show"
        again = api.post(f"/api/v1/meetings/{meeting_id}/outcome", json={"status": "held"}, headers=factory.headers(rep))
        assert again.status_code == 409
        bad = api.post(f"/api/v1/meetings/{meeting_id}/outcome", json={"status": "lost"}, headers=factory.headers(rep))
        assert bad.status_code == 422
        session.commit()
        names = [e.name for e in session.scalars(select(OutboxEvent).where(OutboxEvent.name.like("meeting.%")))]
        assert sorted(names) == ["meeting.booked", "meeting.no_show"]


class TestBadInput:
    def test_off_grid_times_header_breaking_names_and_unknown_zones_are_refused(self, api, session, factory):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        slot = first_slot(api, "intro")
        off_grid = (utc(slot) + timedelta(minutes=7)).isoformat()
        assert book(api, "intro", off_grid).status_code == 409
        response = book(api, "intro", slot, name="Eve\r\nBcc: all@example.com")
        assert response.status_code == 422 and "name" in response.text
        assert book(api, "intro", slot, timezone="Mars/Base").status_code == 422
        assert book(api, "intro", slot, email="not-an-address").status_code == 422
        assert api.get("/book/intro/slots", params={"tz": "Mars/Base"}).status_code == 422
        session.commit()
        assert session.scalar(select(Meeting)) is None

    def test_a_reschedule_needs_a_known_zone_and_a_free_offered_time(self, api, session, factory):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        first = book(api, "intro", first_slot(api, "intro")).json()
        other = slot_on_another_day(api, "intro", first["start"])
        second = book(api, "intro", other, email="bob@example.com").json()
        token = first["manage_url"].rsplit("/", 1)[1]
        assert api.post(f"/book/manage/{token}/reschedule", json={"start": other, "timezone": "Mars/Base"}).status_code == 422
        taken = api.post(f"/book/manage/{token}/reschedule", json={"start": second["start"]})
        assert taken.status_code == 409 and "just taken" in taken.json()["detail"]
        off_grid = (utc(other) + timedelta(minutes=7)).isoformat()
        assert api.post(f"/book/manage/{token}/reschedule", json={"start": off_grid}).status_code == 409
        same = api.post(f"/book/manage/{token}/reschedule", json={"start": first["start"]})
        assert same.status_code == 200  # its own time is not in its way
