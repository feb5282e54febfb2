"""Every main page, as an admin, a manager and a rep, on a desktop (1440×900) and a phone
(390×844): no console error, nothing wider than the screen, and no serious or critical
accessibility problem found by axe-core.

The pages are the menu's links (so a page area that adds one is checked too), the lead
desk's and mail's tabs, and a record page of each main kind. One browser; one logged-in
context per role; axe is injected into every page before the page's own scripts.

With ``PIPEWISE_SCREENSHOTS=<folder>`` the manager's run also saves every page it checks,
at both sizes, as PNG files there (the pictures in docs/web.md are made this way)."""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.axe import BLOCKING, RUN_AXE, axe_source
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
EXTRA_PAGES = ("/lead-import", "/lead-duplicates", "/lead-scoring", "/lead-routing", "/mail/outbox",
               "/mail/suppressions", "/sequence-enrollments", "/jobs", "/notifications", "/account/password")


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture
def people(factory, session):  # type: ignore[no-untyped-def]
    """An admin, and a manager and a rep of one team, with a few records of the rep's."""
    team = factory.team(name="East")
    admin = factory.user(role="admin", name="Ada Admin")
    manager = factory.user(role="manager", name="Mia Manager", team=team)
    rep = factory.user(name="Rex Rep", team=team)
    factory.pipeline()
    account = factory.account(rep, name="Acme Worldwide Holdings")
    contact = factory.contact(rep, account_id=account.id, email="pat.buyer@acme.example")
    deal = factory.deal(rep, name="Acme renewal", account_id=account.id)
    lead = factory.lead(rep, email="lee.lead@example.org")
    session.commit()
    records = (f"/accounts/{account.id}", f"/contacts/{contact.id}", f"/deals/{deal.id}", f"/leads/{lead.id}")
    return {"admin": admin, "manager": manager, "rep": rep}, records


def main_pages(page: Page, records: tuple[str, ...]) -> list[str]:
    menu = page.eval_on_selector_all(".sidebar .nav a[href]", "links => links.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys([*menu, *EXTRA_PAGES, *records]))


def problems_on(page: Page, url: str, errors: list[str], shots: Path | None = None) -> Iterator[str]:
    errors.clear()
    response = page.goto(url)
    assert response is not None
    if response.status >= 400:
        yield f"{url}: answered {response.status}"
        return
    page.wait_for_load_state("networkidle")
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.evaluate(NEXT_FRAME)  # let the page lay itself out (and charts resize) at the new width
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide = page.evaluate(WIDEST_ELEMENT)
            yield f"{url} at {viewport['width']}px: {overflow}px wider than the screen ({wide})"
        if shots is not None:
            path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "record", url.strip("/").lower())
            name = re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "home"
            page.screenshot(path=str(shots / f"{name}-{viewport['width']}.png"))
        violations = page.evaluate(RUN_AXE)
        for v in violations:
            if v["impact"] in BLOCKING:
                yield f"{url} at {viewport['width']}px: axe {v['impact']} {v['id']}: {v['help']} — {v['nodes']}"
    page.set_viewport_size(DESKTOP)
    yield from (f"{url}: console: {e}" for e in errors)


# Two frames, or a quarter second if the browser holds frames back (a headless Chromium on
# a loaded machine once never drew the next one, and the test hung until its timeout).
NEXT_FRAME = "() => new Promise(done => { requestAnimationFrame(() => requestAnimationFrame(done)); setTimeout(done, 250); })"

WIDEST_ELEMENT = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > width + 1);
  const leaf = wide.filter(e => !wide.some(o => o !== e && e.contains(o)));
  return leaf.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : "")).join(", ");
}"""


@pytest.mark.parametrize("role", ["admin", "manager", "rep"])
def test_main_pages_are_accessible_and_fit(browser, live_server, people, axe, role):  # type: ignore[no-untyped-def]
    users, records = people
    context = browser.new_context(base_url=live_server, viewport=DESKTOP)
    context.add_init_script(script=axe)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, users[role].email)
        shots = _screenshot_folder() if role == "manager" else None
        found = [problem for url in main_pages(page, records) for problem in problems_on(page, url, errors, shots)]
    finally:
        context.close()
    assert found == [], f"{role}:\n" + "\n".join(found)


def _screenshot_folder() -> Path | None:
    folder = os.environ.get("PIPEWISE_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)
