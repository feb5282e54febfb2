"""Under the Content-Security-Policy, in a real browser: every main page loads with no
policy violation and no console error, and what the moved inline code did still works
(HTMX requests, confirm-before-delete, the pipeline picker, filters that submit)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import log_in
from tests.security.pages import build_site

pytestmark = pytest.mark.e2e

# Runs before any page script; a page's own policy cannot stop it (it is not inline).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture
def watched(page: Page):  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return page, problems


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_every_main_page_runs_under_the_policy(watched, factory, session):  # type: ignore[no-untyped-def]
    page, problems = watched
    site = build_site(factory, session)
    log_in(page, site.admin.email)
    for path in site.pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        assert violations(page) == [], path
        assert problems == [], path
    # htmx ran (it only marks the body once it has processed the page).
    assert page.evaluate("typeof htmx === 'object' && htmx.config.includeIndicatorStyles === false")


def test_behaviour_moved_out_of_inline_code_still_works(watched, factory, session):  # type: ignore[no-untyped-def]
    page, problems = watched
    site = build_site(factory, session)
    factory.pipeline(name="Renewals")
    factory.contact(site.admin, first_name="Keep", last_name="Me")
    session.commit()
    log_in(page, site.admin.email)

    # HTMX: the search box filters the list in place.
    page.goto("/contacts")
    page.fill("input[type=search]", "Hopper")
    expect(page.locator("#results")).to_contain_text("Hopper")
    expect(page.locator("#results")).not_to_contain_text("Keep Me")

    # data-confirm: dismissing keeps the record, accepting deletes it.
    page.goto("/contacts")
    page.get_by_role("link", name="Keep Me").click()
    contact_url = page.url
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(contact_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).not_to_have_url(contact_url)
    page.goto("/contacts")
    expect(page.locator("#results")).not_to_contain_text("Keep Me")

    # data-navigate: choosing another pipeline opens its board.
    page.goto("/pipeline")
    page.select_option("select[aria-label=Pipeline]", label="Renewals")
    expect(page.get_by_role("heading", name="Renewals")).to_be_visible()

    # data-autosubmit: the status filter reloads the list.
    page.goto("/sequences")
    page.select_option("select[name=status]", "draft")
    expect(page).to_have_url(re.compile(r"status=draft"))

    assert violations(page) == []
    assert problems == []
