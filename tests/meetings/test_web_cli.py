from sqlalchemy import select

from pipewise.meetings.models import Availability, BookingPage, Meeting
from tests.meetings.support import book, first_slot, make_page, set_hours


class TestWebPages:
    def test_availability_and_a_new_page_from_the_meetings_page(self, web, session, factory):
        rep = factory.user()
        session.commit()
        web.login(rep)
        assert web.get("/meetings").status_code == 200
        response = web.post("/meetings", {"action": "availability", "timezone": "Europe/Paris", "hours_0": "09:00-12:00, 14:00-17:00",
                                          "buffer_after_minutes": "10", "min_notice_minutes": "60", "horizon_days": "30"},
                            follow_redirects=False)
        assert response.status_code in (302, 303), response.text
        bad = web.post("/meetings", {"action": "availability", "timezone": "Europe/Paris", "hours_1": "nine to five"})
        assert bad.status_code == 422 and "09:00-12:00" in bad.text
        created = web.post("/meetings", {"action": "new_page", "title": "Demo", "slug": "demo"}, follow_redirects=False)
        assert created.status_code == 303
        editor = web.get(created.headers["location"])
        assert editor.status_code == 200 and "data-preview-form" in editor.text and 'data-face="title">Demo<' in editor.text
        session.commit()
        row = session.get(Availability, rep.id)
        assert row.weekly_hours == {"0": [["09:00", "12:00"], ["14:00", "17:00"]]} and row.buffer_after_minutes == 10
        assert session.scalar(select(BookingPage)).slug == "demo"

    def test_public_pages_need_no_login(self, api, session, factory):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep), questions=[{"key": "company", "label": "Company <b>", "required": True}])
        page = api.get("/book/intro")
        assert page.status_code == 200 and 'data-booking-page="intro"' in page.text
        assert "Company &lt;b&gt;" in page.text and 'name="website"' in page.text
        assert api.get("/book/nothing-here").status_code == 404
        booked = book(api, "intro", first_slot(api, "intro"), answers={"company": "X"}).json()
        manage = api.get(booked["manage_url"].split("127.0.0.1:8000")[-1])
        assert manage.status_code == 200 and "data-manage=" in manage.text
        assert api.get("/book/manage/forged").status_code == 404


class TestCli:
    def test_pages_slots_list_and_cancel(self, cli, api, session, factory):
        rep = factory.user(email="rep@example.com")
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        book(api, "intro", first_slot(api, "intro"))
        assert "intro" in cli("meetings", "pages", "--as", "rep@example.com").output
        slots = cli("meetings", "slots", "intro", "--tz", "Asia/Tokyo", "--days", "3")
        assert slots.exit_code == 0 and ":" in slots.output
        session.commit()
        meeting = session.scalar(select(Meeting))
        assert str(meeting.id) in cli("meetings", "list", "--as", "rep@example.com").output
        result = cli("meetings", "cancel", str(meeting.id), "--as", "rep@example.com")
        assert result.exit_code == 0, result.output
        session.commit()
        session.refresh(meeting)
        assert meeting.status == "cancelled"
        assert cli("meetings", "slots", "intro", "--tz", "Mars/Base").exit_code == 1
