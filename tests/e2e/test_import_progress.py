"""A CSV of 100,000 leads imports in the background: the progress bar moves and ends at
100 %, the person may leave and find the import again, and the row report downloads."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

ROWS = 100_000


@pytest.fixture
def big_csv(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "leads-100k.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("First name,Last name,Email,Company\n")
        for n in range(ROWS):
            # Every 1,000th row has a broken address, so the row report has something in it.
            mail = f"lead{n}@example.org" if n % 1000 else f"lead{n}-at-example"
            f.write(f"Lee{n},Lead{n},{mail},Company {n}\n")
    return path


def bar_values(page: Page, until: float) -> list[int]:
    """The bar's value as the page shows it, read until the job ends (or ``until``)."""
    seen: list[int] = []
    while time.monotonic() < until:
        value = page.locator("progress.job-bar").first.get_attribute("value")
        if value is not None and (not seen or int(value) != seen[-1]):
            seen.append(int(value))
        if page.locator(".job-done, .job-failed").count():
            break
        page.wait_for_timeout(100)
    return seen


def test_a_large_import_shows_its_progress_and_can_be_left(page: Page, factory, session, big_csv):  # type: ignore[no-untyped-def]
    user = factory.user(role="manager")
    session.commit()
    log_in(page, user.email)
    page.goto("/lead-import")
    page.set_input_files("#import-file", str(big_csv))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Columns of leads-100k.csv")).to_be_visible()
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Import of leads-100k.csv")).to_be_visible()
    job_url = page.url
    first = bar_values(page, time.monotonic() + 1.5)

    page.goto("/lead-import")  # leave ...
    expect(page.get_by_role("link", name="leads-100k.csv")).to_be_visible()
    page.goto("/jobs")  # ... and come back through the list of background work
    page.get_by_role("link", name="Import of leads-100k.csv").click()
    assert page.url == job_url
    rest = bar_values(page, time.monotonic() + 120)
    values = first + rest
    expect(page.locator(".job-progress")).to_have_class(re.compile(r"\bjob-done\b"))
    assert values[-1] == 100, values
    assert values == sorted(values), f"the bar went back: {values}"
    assert any(0 < v < 100 for v in values), f"the bar never showed a step between start and end: {values}"

    page.get_by_role("link", name="See the result").click()
    expect(page.locator(".import-counts")).to_contain_text("100,000")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the row report (CSV)").click()
    report = download.value.path().read_text()
    assert report.startswith("line,outcome,reason,excerpt") and report.count("\n") == 1 + ROWS // 1000
