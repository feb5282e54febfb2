"""The keyboard alone: the first Tab offers the skip link, "?" lists the shortcuts, "g"
then a letter goes to a page, and a swapped part of a page keeps the focus."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e


def test_skip_link_shortcuts_and_focus_after_a_swap(page: Page, factory, session):  # type: ignore[no-untyped-def]
    user = factory.user()
    factory.pipeline()
    deal = factory.deal(user, name="Keyboard deal")
    session.commit()
    log_in(page, user.email)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ctrl")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("g")
    page.keyboard.press("t")
    expect(page).to_have_url(re.compile(r"/today$"))

    page.goto(f"/deals/{deal.id}")
    page.get_by_label("Subject").first.fill("Called about the renewal")
    page.get_by_role("button", name="Log activity").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Called about the renewal").first).to_be_visible()
    # The focus is handed back once HTMX settles the swap, a moment after the text shows.
    page.wait_for_function("document.activeElement && document.activeElement !== document.body", timeout=5000)
