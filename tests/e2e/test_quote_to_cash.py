"""Quote to cash in a real browser, every person on their own page: the rep builds a
quote whose discount needs approval, the manager approves it, the rep sends it, the buyer
opens the link from the e-mail a real SMTP server received and accepts it; the deal moves
to the accepted stage and the order made from the quote reserves the stock."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing import stock
from pipewise.billing.models import Order, StockLevel
from pipewise.deals.models import Deal
from pipewise.quotes.catalogue import product_service
from pipewise.quotes.models import Quote
from pipewise.quotes.settings import company_settings
from tests.e2e.support import log_in
from tests.sequences.support import run_worker, smtp  # noqa: F401 - the SMTP server fixture

pytestmark = pytest.mark.e2e

LINK = re.compile(r"http://[^\s]+(/q/[A-Za-z0-9_.\-]+)")


def test_from_a_quote_to_reserved_stock(page: Page, factory, session, smtp):  # type: ignore[no-untyped-def]  # noqa: F811
    team = factory.team("East")
    manager = factory.user(role="manager", team=team, name="Mia Manager", password="correct-horse")
    rep = factory.user(role="rep", team=team, name="Rory Rep", password="correct-horse")
    team.manager_id = manager.id
    _pipeline, stages = factory.pipeline()
    company_settings(session).accepted_stage_id = stages[-2].id
    seat = product_service.create(session, actor=SYSTEM_ACTOR, data={
        "sku": "SEAT", "name": "Seat licence", "price": Decimal("100.00"), "currency": "EUR", "tax_rate": Decimal(19),
        "stocked": True})
    stock.receive(session, product_id=seat.id, quantity=Decimal(25), reason="opening stock", actor=SYSTEM_ACTOR)
    deal = factory.deal(rep, name="Seats for Initech", currency="EUR", stage_id=stages[0].id)
    session.commit()

    log_in(page, rep.email)
    page.goto(f"/deals/{deal.id}")
    page.select_option("#new-product", label="Seat licence (SEAT)")
    page.fill("#new-quantity", "10")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#line-items")).to_contain_text("Seat licence")
    page.get_by_role("button", name="Create quote").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
    quote_url = page.url
    page.fill('input[name="l0-discount_percent"]', "15")
    page.get_by_role("button", name="Save lines").click()
    expect(page.locator("#quote-status")).to_have_text("pending approval")
    expect(page.get_by_role("button", name="Send quote")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()

    log_in(page, manager.email)
    page.goto("/quote-approvals")
    row = page.locator("#approval-queue tr", has_text="Q-")
    row.get_by_placeholder("Comment").fill("Strategic logo")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("Discount approved.")
    page.get_by_role("button", name="Log out").click()

    log_in(page, rep.email)
    page.goto(quote_url)
    expect(page.locator("#quote-status")).to_have_text("approved")
    page.fill("#send-to", "buyer@initech.example")
    page.get_by_role("button", name="Send quote").click()
    expect(page.locator("#quote-status")).to_have_text("sent")

    run_worker()  # the e-mail leaves through the mail path
    [mail] = smtp.handler.to("buyer@initech.example")
    link = LINK.search(mail.get_body(("plain",)).get_content()).group(1)

    buyer = page.context.browser.new_context(base_url=page.url.split("/quotes/")[0], viewport={"width": 390, "height": 844})
    try:
        buyer_page = buyer.new_page()
        buyer_page.goto(link)
        expect(buyer_page.locator("#totals [data-total=gross]")).to_have_text("€1,011.50")
        buyer_page.fill("#signer_name", "Bill Lumbergh")
        buyer_page.get_by_role("button", name="Accept the quote").click()
        expect(buyer_page.locator("[data-state=accepted]")).to_contain_text("Accepted by Bill Lumbergh")
    finally:
        buyer.close()

    run_worker()  # the accepted quote becomes an order, confirmed with its stock reserved
    session.expire_all()
    quote = session.scalar(select(Quote).where(Quote.deal_id == deal.id))
    assert quote.status == "accepted"
    assert session.get(Deal, deal.id).stage_id == stages[-2].id
    order = session.scalar(select(Order).where(Order.quote_id == quote.id))
    assert order is not None and order.status == "confirmed"
    level = session.scalar(select(StockLevel).where(StockLevel.product_id == seat.id))
    assert (level.on_hand, level.reserved) == (Decimal(25), Decimal(10))

    page.goto(f"/deals/{deal.id}")
    expect(page.locator(".timeline")).to_contain_text("accepted")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text(f"Bill Lumbergh accepted quote {quote.number}")
