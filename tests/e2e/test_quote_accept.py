"""The buyer on a phone: opens the accept link, ticks an optional line (the total follows
from the server), signs with a finger, accepts; the page shows the accepted state, the
deal moved to the accepted stage, and nothing scrolls sideways."""

import re
import struct
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from pipewise.deals.models import Deal
from pipewise.quotes import sending
from pipewise.quotes.models import Quote, QuoteResponse
from tests.quotes.accept_support import accepted_stage, make_quote

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]


def test_the_buyer_accepts_on_a_phone(browser, live_server, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user(team=factory.team("East"))
    quote = make_quote(session, factory, owner=rep)
    stage = accepted_stage(session, "Demo")
    sending.send_quote(session, quote.id, factory.actor(rep))
    token = sending.accept_token(session, quote)
    session.commit()

    context = browser.new_context(base_url=live_server, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page: Page = context.new_page()
    try:
        page.goto(f"/q/{token}")
        expect(page.get_by_role("heading", name=f"Quote {quote.number}")).to_be_visible()
        gross = page.locator("#totals [data-total=gross]")
        expect(gross).to_have_text("€2,308.60")
        expect(page.locator(".buyer-optional")).to_have_class(re.compile(r"\bbuyer-off\b"))

        page.get_by_role("checkbox").check()
        expect(gross).to_have_text("€3,022.46")
        expect(page.locator(".buyer-optional")).not_to_have_class(re.compile(r"\bbuyer-off\b"))

        page.fill("#signer_name", "Claire Martin")
        pad = page.locator("#signature-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 60)
        page.mouse.down()
        for step in range(1, 12):
            page.mouse.move(box["x"] + 20 + step * 20, box["y"] + 60 + (15 if step % 2 else -15))
        page.mouse.up()
        page.get_by_role("button", name="Accept the quote").click()

        answered = page.locator("[data-state=accepted]")
        expect(answered).to_be_visible()
        expect(answered).to_contain_text("Accepted by Claire Martin")
        expect(page.get_by_role("button", name="Accept the quote")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot = page.screenshot(full_page=True)
        assert png_width(shot) == PHONE["width"] * 2  # the full page is no wider than the phone
    finally:
        context.close()

    session.expire_all()
    stored = session.get(Quote, quote.id)
    assert stored.status == "accepted" and stored.gross_total == Decimal("3022.46")
    assert session.get(Deal, quote.deal_id).stage_id == stage.id
    answer = session.query(QuoteResponse).filter_by(quote_id=quote.id).one()
    assert answer.signer_name == "Claire Martin" and answer.signature_png.startswith(b"\x89PNG")
    assert answer.pdf_sha256 == stored.pdf_sha256
