"""The contact import wizard in a browser (upload, mapping, preview with each cell's
problem, the background job, the row report) and a list's Export button."""

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

CONTACTS = (
    "Given name,Surname,E-mail,Company,Notes\n"
    "Ada,Lovelace,ada@engines.example,Analytical Engines,first\n"
    "Grace,Hopper,not-an-address,Analytical Engines,second\n"
    "=HYPERLINK(\"http://evil.example\"),Formula,formula@example.org,,third\n"
)


def test_a_rep_imports_contacts_through_the_wizard_and_exports_them(page: Page, factory, session, tmp_path):  # type: ignore[no-untyped-def]
    rep = factory.user(role="rep", team=factory.team("East"))
    factory.account(owner=rep, name="Analytical Engines", domain="engines.example")
    session.commit()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    file = tmp_path / "people.csv"
    file.write_text(CONTACTS)

    log_in(page, rep.email)
    page.goto("/contacts")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import contacts")).to_be_visible()
    page.set_input_files("#import-file", str(file))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Columns of people.csv")).to_be_visible()
    expect(page.get_by_label("Field for the column Given name")).to_have_value("first_name")
    expect(page.get_by_label("Field for the column Company")).to_have_value("account")
    expect(page.get_by_label("Field for the column Notes")).to_have_value("")
    problem = page.locator('tr[data-line="3"] [data-problem="email"]')
    expect(problem).to_contain_text("@-sign")
    expect(page.locator('tr[data-line="3"] td.error')).to_contain_text("not-an-address")

    page.get_by_label("Field for the column Company").select_option("")  # leave the company out after all
    page.get_by_role("button", name="Preview again").click()
    expect(page.get_by_label("Field for the column Company")).to_have_value("")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Import of people.csv (contacts)")).to_be_visible()
    page.get_by_role("link", name="See the result").click()
    counts = page.locator(".import-counts")
    expect(counts).to_contain_text("Created")
    expect(page.get_by_role("cell", name="rejected")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the row report (CSV)").click()
    report = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [(r["line"], r["outcome"]) for r in report] == [("2", "created"), ("3", "rejected"), ("4", "created")]
    assert "@-sign" in report[1]["email"] and "not-an-address" in report[1]["row"]

    page.goto("/contacts?q=formula")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [(r["first_name"], r["last_name"]) for r in exported] == [("'=HYPERLINK(\"http://evil.example\")", "Formula")]
    assert errors == []


def test_the_import_pages_fit_a_phone(browser, live_server, factory, session, tmp_path):  # type: ignore[no-untyped-def]
    rep = factory.user(role="rep")
    session.commit()
    file = tmp_path / "people.csv"
    file.write_text(CONTACTS)
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, rep.email)
        page.set_viewport_size({"width": 390, "height": 800})
        for url in ("/deals/import", "/accounts", "/contacts/import"):
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        page.set_input_files("#import-file", str(file))
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name="Columns of people.csv")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the mapping and preview"
    finally:
        context.close()
