"""In a real browser: a rep's bell counts up when a manager gives them a task, the inbox
lists it, and "Mark all read" empties the count; the inbox, its settings and the
calendar fit a 1440px screen and a 390px phone without sideways scrolling."""

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

SCREENS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", "correct-horse")
    page.click("button[type=submit]")


def test_the_bell_counts_a_task_given_to_the_rep_and_read_all_clears_it(page, live_server, factory, session):  # type: ignore[no-untyped-def]
    team = factory.team()
    manager = factory.user(role="manager", team=team, name="Mia Manager")
    rep = factory.user(team=team, password="correct-horse", name="Rob Rep")
    session.commit()
    _log_in(page, rep.email)
    bell = page.locator(".page-bar [data-bell]")
    expect(bell).to_be_visible()
    expect(bell.locator("[data-bell-count]")).to_have_count(0)

    for title in ("Call Ada Lovelace", "Send the proposal"):
        r = httpx.post(f"{live_server}/api/v1/tasks", json={"title": title, "owner_id": str(rep.id)}, headers=factory.headers(manager))
        assert r.status_code == 201, r.text
    page.reload()
    expect(bell.locator("[data-bell-count]")).to_have_text("2")

    bell.click()
    expect(page).to_have_url(f"{live_server}/notifications")
    items = page.locator("#inbox .inbox-item.unread")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Mia Manager assigned you a task: Send the proposal")
    page.locator("[data-read-all]").click()
    expect(page.get_by_text("Marked 2 notifications read.")).to_be_visible()
    expect(page.locator("#inbox .inbox-item.unread")).to_have_count(0)
    expect(page.locator(".page-bar [data-bell] [data-bell-count]")).to_have_count(0)


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s['width']}px")
def test_inbox_settings_and_calendar_fit_the_screen(browser, live_server, factory, session, screen):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from pipewise.notifications.service import notify

    rep = factory.user(password="correct-horse")
    for n in range(3):
        notify(session, rep.id, "reminder", f"Reminder: a rather long task title that goes on and on, number {n}",
               body="Some words " * 30, link="/calendar")
    factory.task(rep, title="A task with a long, long title in the calendar", due_at=datetime.now(UTC))
    session.commit()
    context = browser.new_context(base_url=live_server, viewport=screen)
    page: Page = context.new_page()
    try:
        _log_in(page, rep.email)
        bell = page.locator(".topbar [data-bell]" if screen["width"] < 900 else ".page-bar [data-bell]")
        expect(bell.locator("[data-bell-count]")).to_have_text("3")
        for url in ("/notifications", "/notifications/settings", "/calendar", "/"):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= screen["width"], f"{url} is {width}px wide at {screen['width']}px"
    finally:
        context.close()
