"""Search, the board and the record pages in a real browser, on a desktop and a phone:
Ctrl-K search driven by the keyboard; the board's filters, totals, refused move (toast
and focus) and won drop zone; a deal's stage bar; bulk assign on a list. No page
scrolls sideways and the console stays clean."""

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect


pytestmark = pytest.mark.e2e

SCREENS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SCREENS))
def screen(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


@pytest.fixture
def world(factory, session):  # type: ignore[no-untyped-def]
    team = factory.team("East")
    manager = factory.user(role="manager", team=team, name="Mona Manager")
    rep = factory.user(team=team, name="Rita Rep")
    pipeline, stages = factory.pipeline()
    account = factory.account(manager, name="Lovelace Analytics", domain="analytical.example")
    ada = factory.contact(manager, first_name="Ada", last_name="Lovelace", account_id=account.id)
    factory.contact(manager, first_name="Adam", last_name="Lovell")
    factory.contact(rep, first_name="Bea", last_name="Bulk")
    factory.contact(rep, first_name="Cy", last_name="Bulk")
    deals = {
        "big": factory.deal(manager, name="Big engine", amount=Decimal("12000")),
        "undated": factory.deal(manager, name="Undated order", amount=Decimal("3000")),
        "rita": factory.deal(rep, name="Ritas deal", amount=Decimal("500")),
    }
    session.commit()
    return {"manager": manager, "rep": rep, "pipeline": pipeline, "stages": stages, "ada": ada, "deals": deals}


@pytest.fixture
def page(browser, live_server, screen) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, viewport=SCREENS[screen])
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" and not refused(message.text) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def log_in(page: Page, email: str) -> None:
    """Log in at any screen size (on a phone the sidebar with the user's name is folded away)."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", "correct-horse")
    page.click("button[type=submit]")
    expect(page.locator("#main")).to_be_visible()


def refused(text: str) -> bool:
    """Chromium logs every 4xx answer; a refused board move answers 422 on purpose (the
    board comes back with the reason), which is no error of the page."""
    return "the server responded with a status of 422" in text


def fits(page: Page, screen: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SCREENS[screen]["width"], f"{page.url} is {width}px wide on a {screen}"


def test_ctrl_k_search_with_the_keyboard(page: Page, world, screen):  # type: ignore[no-untyped-def]
    log_in(page, world["manager"].email)
    page.keyboard.press("Control+k")
    box = page.locator("#search-q")
    expect(box).to_be_focused()
    box.press_sequentially("lov")
    options = page.locator("#search-found [role=option]")
    expect(options).to_have_count(3)  # Ada Lovelace, Adam Lovell, Lovelace Analytics
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    fits(page, screen)
    box.press("Escape")
    expect(page.locator("#search-dialog")).to_be_hidden()
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially("ada lovela")
    expect(options).to_have_count(1)
    box.press("Enter")
    expect(page).to_have_url(re.compile(f"/contacts/{world['ada'].id}$"))


def test_board_filters_totals_refusal_and_won_zone(page: Page, world, screen):  # type: ignore[no-untyped-def]
    stages, deals = world["stages"], world["deals"]
    log_in(page, world["manager"].email)
    page.goto("/pipeline")
    first = page.locator(f'.cards[data-stage-id="{stages[0].id}"]')
    expect(first.locator(".deal-card")).to_have_count(3)  # a manager starts on the team
    expect(page.locator(".column-total").first).to_have_text("$15,500")
    fits(page, screen)
    if screen == "desktop":
        right = page.evaluate("Math.max(...[...document.querySelectorAll('.column')].map(c => c.getBoundingClientRect().right))")
        assert right <= SCREENS[screen]["width"], "a column is off screen"
    page.locator(".scope-option", has_text="Me").click()
    expect(first.locator(".deal-card")).to_have_count(2)
    expect(page.locator(".column-total").first).to_have_text("$15,000")

    # Negotiation needs a close date: the card stays, a toast says why, the focus is on the card
    page.select_option(f"#move-{deals['undated'].id}", str(stages[3].id))
    toast = page.locator(".board-toast[role=alert]")
    expect(toast).to_contain_text("Close date is required")
    box = toast.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= SCREENS[screen]["height"]
    expect(page.locator(f'.deal-card[data-deal-id="{deals["undated"].id}"]')).to_be_focused()
    expect(first.locator(f'[data-deal-id="{deals["undated"].id}"]')).to_have_count(1)
    toast.locator(".board-toast-close").click()
    expect(toast).to_have_count(0)

    # drag the big deal onto the won drop zone (on a phone, where the zone is a scroll
    # away from the card, with the card's stage menu)
    won = page.locator(f'.zone-cards[data-stage-id="{stages[4].id}"]')
    if screen == "desktop":
        page.locator(f'.deal-card[data-deal-id="{deals["big"].id}"]').drag_to(won)
    else:
        page.select_option(f"#move-{deals['big'].id}", str(stages[4].id))
    expect(page.locator(".board-toast[role=status]")).to_contain_text("moved to Closed won")
    expect(page.locator(".drop-zone-won .zone-total")).to_have_text("$12,000")
    fits(page, screen)


def test_stage_bar_on_a_deal(page: Page, world, screen):  # type: ignore[no-untyped-def]
    deal = world["deals"]["big"]
    log_in(page, world["manager"].email)
    page.goto(f"/deals/{deal.id}")
    fits(page, screen)
    page.locator(".stage-step-button", has_text="Demo").click()
    expect(page.locator(".flash-success")).to_contain_text("is now in Demo")
    expect(page.locator(".stage-step-current")).to_have_text(re.compile("Demo"))
    page.locator(".lost-form summary").click()
    page.fill(".lost-reason textarea", "No budget")
    page.locator(".lost-reason button").click()
    expect(page.locator(".flash-success")).to_contain_text("Closed lost")
    fits(page, screen)


def test_bulk_assign_on_the_contacts_list(page: Page, world, screen):  # type: ignore[no-untyped-def]
    log_in(page, world["manager"].email)
    page.goto("/contacts?q=bulk")
    fits(page, screen)
    expect(page.locator('input[name="contact_id"]')).to_have_count(2)
    if screen == "desktop":
        page.locator("[data-select-all]").check()
    else:  # a phone's list is a stack of cards without the table's head
        for box in page.locator('input[name="contact_id"]').all():
            box.check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 ticked")
    page.select_option("[data-bulk-action]", "assign")
    page.select_option('select[name="owner_id"]', label="Mona Manager")
    page.locator("[data-bulk-submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("2 contacts assigned to Mona Manager")
    fits(page, screen)
