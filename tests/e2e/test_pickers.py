"""Pickers in a real browser, with more accounts and contacts than any page or list
holds: an untouched picker keeps a value far down the alphabet, typing finds any record,
and the keyboard alone can choose."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pipewise.crm.models import Contact
from pipewise.sequences.models import Enrollment
from tests.e2e.support import log_in
from tests.web.test_pickers import many_accounts, many_contacts
from tests.web.test_sequences_pages import fresh, live

pytestmark = pytest.mark.e2e

SCREENS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
COUNT = 620  # more than any page (500 is the largest)


def shoot(page: Page, folder: Path, name: str, focus: str) -> None:
    """A screenshot at each screen size, with ``focus`` in view; none may scroll sideways."""
    for screen, size in SCREENS.items():
        page.set_viewport_size(size)
        page.locator(focus).scroll_into_view_if_needed()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} is {width}px wide on a {screen}"
        page.screenshot(path=str(folder / f"{name}-{screen}.png"))
    page.set_viewport_size(SCREENS["desktop"])


def type_into(page: Page, selector: str, text: str) -> None:
    box = page.locator(selector)
    box.click()
    box.press("Control+a")
    box.press_sequentially(text)


@pytest.fixture
def crowded(factory, session):  # type: ignore[no-untyped-def]
    user = factory.user(name="Rosa Rep", password="correct-horse")
    factory.pipeline()
    many_accounts(session, user, COUNT)
    many_contacts(session, user, COUNT)
    last = factory.account(user, name="Zulu Last Account", domain="zulu.example")
    contact = factory.contact(user, first_name="Linus", last_name="Linked", account_id=last.id)
    deal = factory.deal(user, name="Big rollout")
    sequence = live(session)
    session.commit()
    return {"user": user, "last": last, "contact": contact, "deal": deal, "sequence": sequence}


def test_account_picker_keeps_and_finds_accounts_past_any_page(page: Page, crowded, session, tmp_path):  # type: ignore[no-untyped-def]
    contact, last = crowded["contact"], crowded["last"]
    log_in(page, crowded["user"].email)

    # Saving without touching the picker keeps the alphabetically last account.
    page.goto(f"/contacts/{contact.id}/edit")
    expect(page.locator("#f-account_id")).to_have_value("Zulu Last Account")
    page.fill("#f-title", "CTO")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".record-side")).to_contain_text("Zulu Last Account")
    fresh(session)
    assert session.get(Contact, contact.id).account_id == last.id

    # Typing finds a late account; the keyboard alone chooses it.
    page.goto(f"/contacts/{contact.id}/edit")
    box = page.locator("#f-account_id")
    type_into(page, "#f-account_id", "account 0599")
    listbox = page.get_by_role("listbox", name="Account suggestions")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    shoot(page, tmp_path, "account-picker-open", "#f-account_id-list")
    box.press("ArrowDown")
    expect(listbox.get_by_role("option", name="Account 0599")).to_have_class("picker-option is-active")
    box.press("Enter")
    expect(box).to_have_value("Account 0599")
    expect(listbox).to_be_hidden()

    # Escape closes the list; typed text that was not chosen gives way to the choice.
    type_into(page, "#f-account_id", "zulu")
    expect(listbox.get_by_role("option", name="Zulu Last Account")).to_be_visible()
    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("Escape")
    expect(box).to_have_value("Account 0599")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".record-side")).to_contain_text("Account 0599")

    # Emptying the box unlinks on purpose.
    page.goto(f"/contacts/{contact.id}/edit")
    page.get_by_role("button", name="Clear account").click()
    expect(page.locator("#f-account_id")).to_have_value("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".record-side")).to_contain_text("No account linked.")
    fresh(session)
    assert session.get(Contact, contact.id).account_id is None


def test_deal_add_contact_finds_the_600th_contact(page: Page, crowded, tmp_path):  # type: ignore[no-untyped-def]
    log_in(page, crowded["user"].email)
    page.goto(f"/deals/{crowded['deal'].id}")
    picker = page.get_by_role("combobox", name="Add a contact")
    picker.click()
    listbox = page.get_by_role("listbox", name="Contact suggestions")
    expect(listbox.get_by_role("option").first).to_be_visible()  # focus alone offers the first few
    picker.press_sequentially("person 0599")
    expect(listbox.get_by_role("option")).to_have_count(1)
    shoot(page, tmp_path, "deal-add-contact", "[role=listbox]")
    listbox.get_by_role("option", name="Bulk Person 0599").click()
    expect(picker).to_have_value("Bulk Person 0599")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Contact added to the deal.")
    expect(page.locator(".record-side")).to_contain_text("Bulk Person 0599")


def test_sequence_enrollment_finds_late_contacts(page: Page, crowded, session, tmp_path):  # type: ignore[no-untyped-def]
    log_in(page, crowded["user"].email)
    page.goto("/sequence-enroll")
    page.select_option("#sequence_id", label="Nurture")
    box = page.locator("#enroll-contact")
    suggestions = page.get_by_role("listbox", name="Contacts suggestions")
    for wanted in ("Bulk Person 0618", "Bulk Person 0607"):
        type_into(page, "#enroll-contact", wanted.removeprefix("Bulk "))
        suggestions.get_by_role("option", name=wanted).click()
        expect(box).to_have_value("")
    chosen = page.get_by_role("list", name="Chosen contacts")
    expect(chosen.locator("li")).to_have_count(2)
    # The same contact twice is one chip; a chip can be removed.
    type_into(page, "#enroll-contact", "Person 0607")
    expect(suggestions.get_by_role("option", name="Bulk Person 0607")).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    expect(chosen.locator("li")).to_have_count(2)
    type_into(page, "#enroll-contact", "Person 0001")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    box.press("ArrowDown")
    box.press("Enter")
    expect(chosen.locator("li")).to_have_count(3)
    shoot(page, tmp_path, "enroll-chosen", "[data-picker-chosen]")
    page.get_by_role("button", name="Remove Bulk Person 0001").click()
    expect(chosen.locator("li")).to_have_count(2)
    page.get_by_role("button", name="Enroll", exact=True).click()
    expect(page.locator("#enroll-result")).to_contain_text("2 enrolled in “Nurture”")
    fresh(session)
    names = {c.last_name for c in session.scalars(select(Contact).join(Enrollment, Enrollment.contact_id == Contact.id))}
    assert names == {"Person 0618", "Person 0607"}


def test_owner_filter_picker_filters_the_list(page: Page, crowded, factory, session, tmp_path):  # type: ignore[no-untyped-def]
    team = factory.team()
    other = factory.user(name="Otto Other", team=team)
    crowded["user"].team_id = team.id  # a teammate, whose contacts Rosa sees
    factory.contact(other, first_name="Only", last_name="Otto")
    session.commit()
    log_in(page, crowded["user"].email)
    page.goto("/contacts")
    type_into(page, "#filter-owner_id", "otto")
    owners = page.get_by_role("listbox", name="Owner suggestions")
    expect(owners.get_by_role("option")).to_have_count(1)
    shoot(page, tmp_path, "owner-filter", "#filter-owner_id-list")
    owners.get_by_role("option", name="Otto Other").click()
    expect(page).to_have_url(re.compile(rf"/contacts\?.*owner_id={other.id}"))
    expect(page.locator("#results")).to_contain_text("Only Otto")
    expect(page.locator("#results")).not_to_contain_text("Linus Linked")
