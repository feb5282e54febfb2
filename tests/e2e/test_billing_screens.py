"""The orders, invoice and stock pages in a real browser at desktop (1440 px) and phone
(390 px) width: nothing scrolls sideways, and a delivery is made by hand on the phone."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pipewise.billing.models import Invoice, Order
from tests.billing import builders
from tests.billing.support import fresh

pytestmark = pytest.mark.e2e

SCREENS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("screen", SCREENS)
def test_billing_pages_fit_the_screen(browser, live_server, factory, session, api, screen):  # type: ignore[no-untyped-def]
    manager = factory.user(role="manager", password="correct-horse")
    factory.pipeline()
    widget = builders.product(session, on_hand=20)
    widget.name = "An industrial widget with a name long enough to wrap on a phone"
    deal = factory.deal(owner=manager, currency="EUR")
    quote = builders.quote(session, deal, [{"product": widget, "quantity": 12, "discount_percent": "7.5"},
                                           {"product": builders.product(session, stocked=False), "quantity": 3}])
    session.commit()
    headers = factory.headers(manager)
    order = api.post("/api/v1/orders", json={"quote_id": str(quote.id)}, headers=headers).json()
    api.post(f"/api/v1/orders/{order['id']}/confirm", headers=headers)
    invoice = api.post("/api/v1/invoices/from-order", json={"order_id": order["id"]}, headers=headers).json()
    api.post(f"/api/v1/invoices/{invoice['id']}/post", headers=headers)

    viewport = SCREENS[screen]
    context = browser.new_context(base_url=live_server, viewport=viewport)
    page: Page = context.new_page()
    try:
        page.goto("/login")
        page.fill("#email", manager.email)
        page.fill("#password", "correct-horse")
        page.click("button[type=submit]")
        expect(page.get_by_role("heading", name=manager.name)).to_be_visible()
        for url in ("/orders", f"/orders/{order['id']}", "/invoices", f"/invoices/{invoice['id']}", "/stock"):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{url} is {width}px wide at {screen} width"

        page.goto(f"/orders/{order['id']}")
        page.locator(f"input[name='qty-{order['lines'][0]['id']}']").fill("5")
        page.get_by_role("button", name="Write delivery note").click()
        expect(page.locator("#order-status")).to_have_text("Partly delivered")
        expect(page.locator("#deliveries")).to_contain_text("DN-")
    finally:
        context.close()
    assert fresh(session).scalar(select(Order.status)) == "partly_delivered"
    assert session.scalar(select(Invoice.status)) == "posted"
