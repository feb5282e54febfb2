"""Quotes in a real browser: a rep prices a deal, builds a quote whose discount needs a
manager (the totals update from the server as they type), and the manager approves it.
And the quote pages fit a phone and a wide screen."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.quotes.catalogue import product_service
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e


def sales_team(factory, session):  # type: ignore[no-untyped-def]
    team = factory.team("East")
    manager = factory.user(role="manager", team=team, name="Mia Manager", password="correct-horse")
    rep = factory.user(role="rep", team=team, name="Rory Rep", password="correct-horse")
    team.manager_id = manager.id
    factory.pipeline()
    product_service.create(session, actor=SYSTEM_ACTOR, data={
        "sku": "SEAT", "name": "Seat licence", "price": Decimal("100.00"), "currency": "EUR", "tax_rate": Decimal(19)})
    deal = factory.deal(rep, name="Seats for Initech", currency="EUR")
    session.commit()
    return manager, rep, deal


def test_a_discount_above_the_limit_is_approved_by_the_manager(page: Page, factory, session):  # type: ignore[no-untyped-def]
    manager, rep, deal = sales_team(factory, session)

    log_in(page, rep.email)
    page.goto(f"/deals/{deal.id}")
    lines = page.locator("#deal-lines")
    expect(lines.get_by_role("heading", name="Line items")).to_be_visible()
    page.select_option("#new-product", label="Seat licence (SEAT)")
    page.fill("#new-quantity", "10")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#line-items")).to_contain_text("Seat licence")
    expect(page.locator('#line-totals [data-total="gross"]')).to_have_text("1,190.00 EUR")

    page.get_by_role("button", name="Create quote").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"Q-\d{4}-00001"))
    gross = page.locator('#quote-totals [data-total="gross"]')
    expect(gross).to_have_text("1,190.00 EUR")

    # The totals follow the typing, computed by the server.
    page.fill('input[name="l0-discount_percent"]', "15")
    expect(gross).to_have_text("1,011.50 EUR")
    expect(page.locator("#net-0")).to_have_text("850.00 EUR")
    page.get_by_role("button", name="Save lines").click()
    expect(page.locator("#quote-status")).to_have_text("pending approval")
    expect(page.locator("#approval-pending")).to_contain_text("above the rep limit of 10 %")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()

    log_in(page, manager.email)
    page.get_by_role("link", name="Quotes").click()
    page.get_by_role("link", name="Approval queue").click()
    row = page.locator("#approval-queue tr", has_text="Q-")
    expect(row).to_contain_text("1,011.50 EUR")
    row.get_by_placeholder("Comment").fill("Strategic logo")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("Discount approved.")
    expect(page.locator("#approval-queue")).to_contain_text("Nothing waits for approval.")
    page.get_by_role("link", name=re.compile(r"Q-\d{4}-00001 rev 1")).click()
    expect(page.locator("#quote-status")).to_have_text("approved")
    expect(page.locator("#quote-approvals")).to_contain_text("Strategic logo")
    page.goto(f"/deals/{deal.id}")
    expect(page.locator(".timeline")).to_contain_text("Discount on")


@pytest.mark.parametrize("width", [390, 1440])
def test_quote_pages_fit_the_screen(browser, live_server, factory, session, width):  # type: ignore[no-untyped-def]
    manager, rep, deal = sales_team(factory, session)
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto("/login")
        page.fill("#email", rep.email)
        page.fill("#password", "correct-horse")
        page.click("button[type=submit]")
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.goto(f"/deals/{deal.id}")
        page.select_option("#new-product", label="Seat licence (SEAT)")
        page.get_by_role("button", name="Add line").click()
        expect(page.locator("#line-items")).to_contain_text("Seat licence")
        pages = [f"/deals/{deal.id}"]
        page.get_by_role("button", name="Create quote").click()
        expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
        pages += [page.url, "/quotes", "/quote-approvals"]
        for url in pages:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{url} is {scroll}px wide at {width}px"
    finally:
        context.close()
