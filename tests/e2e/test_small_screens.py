"""At phone width (375px) every main page fits the screen and the menu opens."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 800}


def test_pages_fit_a_phone_screen(browser, live_server, factory, session):  # type: ignore[no-untyped-def]
    user = factory.user(password="correct-horse")
    _pipeline, _stages = factory.pipeline()
    account = factory.account(user, name="Very Long Company Name Incorporated Worldwide")
    contact = factory.contact(user, account_id=account.id, email="someone.with.a.long.address@example.org")
    deal = factory.deal(user, name="A deal with a rather long name", account_id=account.id)
    session.commit()

    context = browser.new_context(base_url=live_server, viewport=PHONE)
    page: Page = context.new_page()
    try:
        page.goto("/login")
        page.fill("#email", user.email)
        page.fill("#password", "correct-horse")
        page.click("button[type=submit]")
        expect(page.locator(".topbar")).to_be_visible()
        expect(page.locator(".sidebar")).to_be_hidden()

        for url in ("/", "/accounts", "/contacts", f"/contacts/{contact.id}", f"/deals/{deal.id}", "/deals/new", "/pipeline"):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{url} is {width}px wide"

        page.locator(".menu-button").click()
        expect(page.locator(".sidebar")).to_be_visible()
        page.get_by_role("link", name="Accounts").click()
        expect(page).to_have_url(re.compile(r"/accounts$"))
        expect(page.get_by_text("Very Long Company Name Incorporated Worldwide")).to_be_visible()
    finally:
        context.close()
