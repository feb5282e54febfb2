"""In a real browser: an admin erases a contact from its page after confirming (saying no
keeps everything); a rep has no such button and the route refuses them; the page still
fits a 390px phone."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pipewise.crm.models import Contact
from pipewise.mail.models import Suppression
from tests.web.conftest import WebClient

pytestmark = pytest.mark.e2e


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", "correct-horse")
    page.click("button[type=submit]")


def test_an_admin_erases_a_contact_from_its_page(page, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin", name="Ada Admin")
    contact = factory.contact(admin, first_name="Erin", last_name="Eraseme", email="erin.eraseme@example.org",
                              phone="+44 20 7946 0958")
    session.commit()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _log_in(page, admin.email)
    page.goto(f"/contacts/{contact.id}")
    button = page.get_by_role("button", name="Erase personal data")
    expect(button).to_be_visible()

    page.once("dialog", lambda dialog: dialog.dismiss())
    button.click()
    expect(page.locator("h1")).to_have_text("Erin Eraseme")

    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.get_by_text("The contact was erased everywhere")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Erased person")
    expect(page.get_by_text("erin.eraseme@example.org")).to_have_count(0)
    session.rollback()  # a fresh look, past this session's earlier snapshot
    session.expire_all()
    erased = session.get(Contact, contact.id)
    assert (erased.email, erased.phone, erased.first_name) == (None, None, None)
    assert [row.address.startswith("sha256:") for row in session.scalars(select(Suppression))] == [True]

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert problems == []


def test_a_rep_has_no_button_and_cannot_post(api, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user()
    contact = factory.contact(rep, last_name="Kept", email="kept@example.org")
    session.commit()
    web = WebClient(api)
    web.login(rep)
    assert "Erase personal data" not in web.get(f"/contacts/{contact.id}").text
    refused = web.post(f"/contacts/{contact.id}/erase", {})
    assert refused.status_code == 403
    session.rollback()  # a fresh look, past this session's earlier snapshot
    session.expire_all()
    assert session.get(Contact, contact.id).email == "kept@example.org"
