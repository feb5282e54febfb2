"""A rep's day in a real browser: log in, add a contact, open a deal for them, drag it
across the board, hit a stage's entry rule, fix the deal, log out."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def drag_card(page: Page, deal_name: str, stage_name: str) -> None:
    card = page.locator(".deal-card", has_text=deal_name)
    card.drag_to(page.get_by_role("list", name=f"Deals in {stage_name}"))


def column_of(page: Page, stage_name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("list", name=f"Deals in {stage_name}")


def test_log_in_create_contact_and_deal_move_it_across_the_board(page: Page, factory, session):
    user = factory.user(name="Rosa Rep", password="correct-horse")
    factory.pipeline()
    session.commit()

    # Logged out: the home page sends us to the login form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#email", user.email)
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.fill("#password", "correct-horse")
    page.click("button[type=submit]")
    expect(page.locator(".me")).to_contain_text("Rosa Rep")

    # A contact, with a validation error shown under the field first.
    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="New contact").click()
    page.fill("#f-first_name", "Grace")
    page.fill("#f-email", "grace@navy.mil")
    page.get_by_role("button", name="Create contact").click()
    expect(page.locator("#f-last_name-msg")).to_have_text("is required")
    expect(page.locator("#f-first_name")).to_have_value("Grace")
    page.fill("#f-last_name", "Hopper")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()

    # Log a call inline (HTMX) and see it on the timeline.
    page.fill("#act-subject", "Intro call")
    page.select_option("#act-type", "call")
    page.get_by_role("button", name="Log activity").click()
    expect(page.locator(".timeline")).to_contain_text("Call: Intro call")

    # Open a deal for her.
    page.get_by_role("link", name="New deal for this contact").click()
    page.fill("#f-name", "Compiler rollout")
    page.fill("#f-amount", "25000")
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_role("heading", name="Compiler rollout")).to_be_visible()
    expect(page.locator(".record-side")).to_contain_text("Grace Hopper")

    # The board: Negotiation needs a close date, so the move is refused and the card stays.
    page.get_by_role("link", name="Pipeline").click()
    expect(column_of(page, "Qualification")).to_contain_text("Compiler rollout")
    expect(column_of(page, "Qualification")).to_contain_text("25,000")
    drag_card(page, "Compiler rollout", "Negotiation")
    notice = page.locator(".board-toast")
    expect(notice).to_contain_text("Close date is required to enter Negotiation")
    expect(column_of(page, "Qualification")).to_contain_text("Compiler rollout")
    expect(column_of(page, "Negotiation")).not_to_contain_text("Compiler rollout")

    # A stage without requirements takes it.
    drag_card(page, "Compiler rollout", "Demo")
    expect(notice).to_contain_text("moved to Demo")
    expect(column_of(page, "Demo")).to_contain_text("Compiler rollout")
    expect(column_of(page, "Qualification")).not_to_contain_text("Compiler rollout")

    # Refused again, then fixed through the link in the message.
    drag_card(page, "Compiler rollout", "Negotiation")
    notice.get_by_role("link").click()
    page.fill("#f-close_date", "2031-06-30")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".headline")).to_contain_text("Negotiation")
    page.get_by_role("link", name="Pipeline").click()
    expect(column_of(page, "Negotiation")).to_contain_text("Compiler rollout")

    # Log out.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/deals")
    expect(page).to_have_url(re.compile(r"/login\?next="))
