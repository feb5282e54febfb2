"""A manager opens the reports, filters to a team, sees the chart drawn and downloads the
CSV; the pages fit a desktop and a phone without sideways scrolling."""

import pytest
from playwright.sync_api import Page, expect

from tests.analytics.seed import build_company
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"


def test_a_manager_filters_a_report_to_a_team_and_downloads_it(page: Page, factory, session):
    company = build_company(session, factory, deals=14)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    log_in(page, company.users["east_manager"].email)

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    page.get_by_role("link", name="Pipeline value by stage").click()
    page.select_option("select[name=team_id]", label="East")
    page.get_by_role("button", name="Apply").click()
    assert f"team_id={company.teams['East'].id}" in page.url
    canvas = page.locator("#report-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('report-chart'))")
    assert page.evaluate("document.getElementById('report-chart').width") > 0

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").first.click()
    download = download_info.value
    assert download.suggested_filename == "pipeline-stages.csv"
    content = open(download.path(), encoding="utf-8").read()
    assert content.splitlines()[0].startswith("Pipeline,Stage,Deals")

    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for path in ("/reports", "/reports/automation", page.url):
            page.goto(path)
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{path} scrolls sideways at {width}px"
    assert problems == []


def test_time_in_stage_says_when_its_percentiles_are_approximate(page: Page, factory, session, monkeypatch, tmp_path):
    from pipewise.analytics import durations, rollups

    company = build_company(session, factory, deals=14)
    rollups.refresh(session)
    session.commit()
    monkeypatch.setattr(durations, "EXACT_UP_TO", 0)  # as past 25,000 stays
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    log_in(page, company.users["east_manager"].email)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/reports/stage-time")
        expect(page.get_by_role("note")).to_contain_text("histograms with 5 % wide buckets")
        expect(page.get_by_role("heading", name="Time in stage and slippage")).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"stage-time scrolls sideways at {width}px"
        page.screenshot(path=str(tmp_path / f"stage-time-{width}.png"), full_page=True)
    assert problems == []
