"""Settings › Retention in a real browser: an admin adds a rule, previews it with a
dry-run that names what would go, runs it, and the page fits a desktop and a phone."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from pipewise.db.base import utcnow
from pipewise.leads.models import Lead
from pipewise.privacy.retention import months_before
from tests.e2e.support import SCREENS, fits, log_in, logged_in_on_screen

pytestmark = pytest.mark.e2e


def test_an_admin_adds_a_rule_previews_it_and_runs_it(page: Page, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    old = factory.lead(None, last_name="Stale", company="Dusty Co")
    fresh = factory.lead(None, last_name="Fresh")
    session.execute(update(Lead).where(Lead.id == old.id).values(created_at=months_before(utcnow(), 13) - timedelta(days=1)))
    session.commit()
    log_in(page, admin.email)
    page.goto("/settings/retention")
    expect(page.locator("#retention-rules")).to_be_empty()
    page.fill("#rule-name", "Stale leads")
    page.select_option("#rule-kind", "unconverted_leads")
    page.fill("#rule-months", "12")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator(".flash-success")).to_contain_text("Rule “Stale leads” saved")

    page.get_by_role("button", name="Dry-run Stale leads").click()
    preview = page.locator("#retention-preview")
    expect(preview.locator("[data-preview-count]")).to_have_text("1")
    expect(preview).to_contain_text("Stale (Dusty Co)")
    session.commit()
    session.expire_all()
    assert len(session.scalars(select(Lead.id)).all()) == 2  # a dry-run deletes nothing

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Run now").click()
    expect(page.locator(".flash-success")).to_contain_text("1 records deleted")
    expect(page.locator("#retention-rules")).to_contain_text("1 deleted")
    session.commit()
    session.expire_all()
    assert session.scalars(select(Lead.id)).all() == [fresh.id]


def test_months_out_of_range_are_refused_beside_the_field(page: Page, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    session.commit()
    log_in(page, admin.email)
    page.goto("/settings/retention")
    page.fill("#rule-name", "Too long")
    page.fill("#rule-months", "9999")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#rule-months-msg")).to_contain_text("between 1 and 240")
    expect(page.locator("#retention-rules")).to_be_empty()


def test_a_rep_may_not_open_it(page: Page, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user()
    session.commit()
    log_in(page, rep.email)
    response = page.goto("/settings/retention")
    assert response is not None and response.status == 403


def test_the_page_fits_desktop_and_phone(browser, live_server, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    session.commit()
    for screen in SCREENS:
        with logged_in_on_screen(browser, live_server, screen, admin.email) as (page, problems):
            page.goto("/settings/retention")
            page.fill("#rule-name", f"Old activities {screen['width']}")
            page.select_option("#rule-kind", "old_activities")
            page.get_by_role("button", name="Save rule").click()
            page.get_by_role("button", name=f"Dry-run Old activities {screen['width']}").click()
            expect(page.locator("#retention-preview")).to_be_visible()
            fits(page, screen, "/settings/retention")
            assert page.evaluate("getComputedStyle(document.querySelector('.settings-layout')).display") == "grid"
            assert problems == []
