"""Settings › Webhooks in a real browser: an admin adds an endpoint for a real receiver,
copies the secret shown once, pings it, reads the delivery log, replays a message,
rotates the secret and fixes a bad event type; the pages fit a desktop and a phone."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.e2e.support import log_in
from tests.integrations.webhooks.conftest import drain
from tests.integrations.webhooks.receiver import Receiver

pytestmark = pytest.mark.e2e
SCREENS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})


def fits(page: Page, width: int, problems: list[str]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways at {width}px"
    assert page.evaluate("getComputedStyle(document.querySelector('.settings-layout')).display") == "grid"
    assert problems == [], problems


def test_an_admin_subscribes_pings_replays_and_rotates(page: Page, factory: Any, session: Session,  # noqa: F811
                                                       receiver: Receiver) -> None:
    admin = factory.user(role="admin", name="Ada Admin")
    session.commit()
    log_in(page, admin.email)
    page.goto("/settings/webhooks")
    page.fill("#new-url", receiver.url)
    page.fill("#new-events", "account.*")
    page.fill("#new-description", "Warehouse")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret").input_value()
    assert secret.startswith("whsec_")
    receiver.secrets.append(secret)

    page.get_by_role("button", name="Send test ping").click()
    expect(page.locator(".flash-success")).to_contain_text("Test ping queued")
    factory.account(name="Acme")
    drain(session)
    page.reload()
    log = page.locator("#messages")
    expect(log).to_contain_text("webhook.ping")
    expect(log).to_contain_text("account.created")
    expect(log.locator(".badge-done")).to_have_count(2)
    page.locator("#messages summary", has_text="account.created").click()
    expect(log).to_contain_text("webhook-signature: v1,")
    expect(log).to_contain_text("HTTP 200")

    page.get_by_role("button", name="Replay account.created").click()
    expect(page.locator(".flash-success")).to_contain_text("same webhook-id")
    drain(session)
    [created] = [d for d in receiver.accepted if d.payload["type"] == "account.created"]
    assert receiver.seen[created.webhook_id] == 2

    page.get_by_role("button", name="Rotate secret").click()
    rotated = page.locator("#new-secret").input_value()
    assert rotated.startswith("whsec_") and rotated != secret
    expect(page.locator(".hint", has_text="previous secret signs too")).to_be_visible()

    page.fill("#edit-events", "account.* deal.*.won")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#edit-events-msg")).to_contain_text("not an event type")
    page.fill("#edit-events", "account.* deal.*")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Endpoint saved")
    expect(page.locator("#edit-events")).to_have_value("account.* deal.*")


@pytest.mark.parametrize("screen", SCREENS, ids=["desktop", "phone"])
def test_the_pages_fit_the_screen(browser: Any, live_server: str, factory: Any, session: Session,  # noqa: F811
                                  receiver: Receiver, screen: dict[str, int]) -> None:
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.integrations.webhooks import service

    admin = factory.user(role="admin", name="Ada Admin")
    endpoint, secret = service.create(session, {"url": receiver.url + "/a-rather-long-path/for-the-phone-screen",
                                                "event_types": ["account.*", "contact.created", "deal.stage_changed"],
                                                "description": "Data warehouse"}, actor=SYSTEM_ACTOR)
    receiver.secrets.append(secret)
    receiver.status = 500
    factory.account(name="Acme")
    drain(session)
    context = browser.new_context(base_url=live_server, viewport=screen)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto("/login")
        page.fill("#email", admin.email)
        page.fill("#password", "correct-horse")
        page.click("button[type=submit]")
        expect(page.locator("#main")).to_be_visible()  # the logged-in shell (at 390 px the menu is folded)
        for path in ("/settings/webhooks", f"/settings/webhooks/{endpoint.id}"):
            assert (response := page.goto(path)) is not None and response.status == 200
            fits(page, screen["width"], problems)
        page.locator("#messages summary").first.click()
        expect(page.locator("#messages")).to_contain_text("HTTP 500")
        fits(page, screen["width"], problems)
    finally:
        context.close()
