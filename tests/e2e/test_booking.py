"""A visitor in Los Angeles books on a Berlin rep's page on a phone-sized screen, sees the
times in their own zone, then moves the meeting from the link they got."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pipewise.meetings import service
from pipewise.meetings.models import Meeting

pytestmark = pytest.mark.e2e
VISITOR_ZONE = "America/Los_Angeles"


@pytest.fixture
def phone(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}, timezone_id=VISITOR_ZONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A script or style the content security policy blocks shows up as a console error.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page, errors
    context.close()


def test_book_in_another_zone_then_reschedule_from_the_link(phone, session, factory):  # type: ignore[no-untyped-def]
    page, errors = phone
    rep = factory.user(password="correct-horse")
    actor = factory.actor(rep)
    service.save_availability(session, {"timezone": "Europe/Berlin", "min_notice_minutes": 0,
                                        "weekly_hours": {str(d): [["09:00", "17:00"]] for d in range(7)}}, actor=actor)
    service.create_page(session, {"slug": "intro", "title": "Intro call", "duration_minutes": 30,
                                  "questions": [{"key": "company", "label": "Company", "required": True}]}, actor=actor)
    session.commit()

    page.goto("/book/intro")
    expect(page.locator("[data-tz]")).to_have_value(VISITOR_ZONE)
    slot = page.locator(".bk-slot").first
    expect(slot).to_be_visible()
    start = slot.get_attribute("data-start")
    local = datetime.fromisoformat(start).astimezone(ZoneInfo(VISITOR_ZONE))
    assert slot.inner_text().replace("\u202f", " ").startswith(local.strftime("%I:%M").lstrip("0")) or local.strftime("%H:%M") in slot.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    slot.click()
    page.fill("input[name=name]", "Grace Hopper")
    page.fill("input[name=email]", "grace@navy.example")
    page.fill("input[name='answer:company']", "Navy")
    page.click("button[type=submit]")
    expect(page.locator("[data-done]")).to_be_visible()
    expect(page.locator("[data-done-when]")).to_contain_text(VISITOR_ZONE)

    session.commit()
    meeting = session.scalar(select(Meeting))
    assert meeting.start_at == datetime.fromisoformat(start) and meeting.timezone == VISITOR_ZONE

    page.click("[data-manage-link]")
    expect(page.locator("[data-current]")).to_contain_text(VISITOR_ZONE)
    page.locator(".bk-day").nth(1).click()
    new_slot = page.locator(".bk-slot").first
    new_start = new_slot.get_attribute("data-start")
    new_slot.click()
    expect(page.locator("[data-done]")).to_contain_text("Moved to")
    session.commit()
    session.refresh(meeting)
    assert meeting.start_at == datetime.fromisoformat(new_start) and meeting.sequence == 1 and meeting.status == "rescheduled"

    # The host sees both in their inbox: the bell counts them, the list names them.
    page.goto("/login")
    page.fill("#email", rep.email)
    page.fill("#password", "correct-horse")
    page.click("button[type=submit]")
    bell = page.locator("[data-bell]:visible")
    expect(bell.locator("[data-bell-count]")).to_have_text("2")
    bell.click()
    items = page.locator("#inbox .inbox-item.unread")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Meeting rescheduled: Intro call")
    expect(items.last).to_contain_text("Meeting booked: Intro call")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
