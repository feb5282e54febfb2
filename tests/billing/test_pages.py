"""The orders, invoices and stock pages over HTTP with a logged-in browser session: the
whole flow by hand, refusals shown on the page with their reason, reps kept out of what
needs a manager."""

import re

from sqlalchemy import select

from pipewise.billing.models import Invoice, Order
from tests.billing import builders
from tests.billing.support import fresh, level
from tests.web.conftest import WebClient


def _login(api, factory, session, role):  # type: ignore[no-untyped-def]
    user = factory.user(role=role)
    session.commit()
    web = WebClient(api)
    assert web.login(user).status_code in (302, 303)
    return web, user


def test_a_manager_confirms_delivers_invoices_posts_and_records_payment(session, factory, api):
    factory.pipeline()
    web, manager = _login(api, factory, session, "manager")
    widget = builders.product(session, on_hand=4)
    deal = factory.deal(owner=manager, currency="EUR")
    quote = builders.quote(session, deal, [{"product": widget, "quantity": 3}])
    session.commit()
    api.post("/api/v1/orders", json={"quote_id": str(quote.id)}, headers=factory.headers(manager))
    order = fresh(session).scalar(select(Order))

    listing = web.get("/orders")
    assert listing.status_code == 200 and order.number in listing.text
    assert web.post(f"/orders/{order.id}/confirm", follow_redirects=False).status_code == 303
    page = web.get(f"/orders/{order.id}")
    assert 'id="order-status">Confirmed<' in page.text
    line_input = re.search(r'name="(qty-[0-9a-f-]+)"', page.text).group(1)

    too_many = web.post(f"/orders/{order.id}/deliver", {line_input: "5"})
    assert too_many.status_code == 422 and "only 3 of" in too_many.text and "left to deliver" in too_many.text
    assert web.post(f"/orders/{order.id}/deliver", {line_input: "2"}, follow_redirects=False).status_code == 303
    assert "DN-" in web.get(f"/orders/{order.id}").text
    assert (level(session, widget).on_hand, level(session, widget).reserved) == (2, 1)

    made = web.post(f"/orders/{order.id}/invoice", {"only_delivered": "1"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/invoices/")
    invoice_url = made.headers["location"]
    assert "Draft invoice" in web.get(invoice_url).text
    assert web.post(f"{invoice_url}/post", follow_redirects=False).status_code == 303
    page = web.get(invoice_url)
    number = fresh(session).scalar(select(Invoice.number))
    assert number in page.text and "/documents/pdf" in page.text
    bad = web.post(f"{invoice_url}/payment", {"amount": "abc"})
    assert bad.status_code == 422 and "is not a number" in bad.text
    assert web.post(f"{invoice_url}/payment", {"amount": "10.00", "method": "card"}, follow_redirects=False).status_code == 303
    assert 'id="invoice-status">Partly paid<' in web.get(invoice_url).text
    assert number in web.get("/invoices").text


def test_the_stock_page_receives_and_refuses_going_below_zero(session, factory, api):
    web, _manager = _login(api, factory, session, "manager")
    widget = builders.product(session)
    session.commit()
    assert web.post("/stock/receipt", {"product_id": str(widget.id), "quantity": "20", "reason": "PO 1"},
                    follow_redirects=False).status_code == 303
    page = web.get("/stock")
    assert widget.sku in page.text and "PO 1" in page.text and 'class="num">20<' in page.text  # not 2E+1
    refused = web.post("/stock/adjustment", {"product_id": str(widget.id), "quantity": "-21", "reason": "count"})
    assert refused.status_code == 422 and "only 20 of" in refused.text and "cannot go below zero" in refused.text
    assert level(session, widget).on_hand == 20


def test_a_rep_sees_stock_but_may_not_change_it_or_post(session, factory, api):
    web, rep = _login(api, factory, session, "rep")
    widget = builders.product(session, on_hand=2)
    session.commit()
    page = web.get("/stock")
    assert page.status_code == 200 and widget.sku in page.text and 'id="receipt-form"' not in page.text
    assert web.post("/stock/receipt", {"product_id": str(widget.id), "quantity": "5"}).status_code == 403
    assert level(session, widget).on_hand == 2
