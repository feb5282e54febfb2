"""A manager's pipeline review in a real browser: the board marks the stale deal, its page
says why, and "Next actions" ranks a rep's deals once the manager switches to that rep."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from pipewise.deals.models import Deal
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e


def test_manager_sees_health_and_switches_to_a_reps_next_actions(page: Page, factory, session):
    pipeline, _stages = factory.pipeline()
    team = factory.team("East")
    manager = factory.user(role="manager", team=team, name="Mia Manager")
    team.manager_id = manager.id
    rep = factory.user(team=team, name="Rosa Rep")
    stuck = factory.deal(rep, name="Stuck rollout", amount=Decimal("50000"),
                         close_date=(datetime.now(UTC) - timedelta(days=3)).date())
    month_ago = datetime.now(UTC) - timedelta(days=30)
    session.execute(update(Deal).where(Deal.id == stuck.id).values(created_at=month_ago, stage_entered_at=month_ago))
    factory.deal(rep, name="Fresh deal", amount=Decimal("1000"))
    session.commit()

    log_in(page, manager.email)
    page.goto(f"/pipelines/{pipeline.id}/board")
    card = page.locator(".deal-card", has_text="Stuck rollout")
    expect(card.locator(".health-mark")).to_have_text("Stale")

    card.locator(".deal-name").click()
    panel = page.locator("#deal-health")
    expect(panel).to_contain_text("No activity for 30 days")
    expect(panel).to_contain_text("has passed")

    page.get_by_role("link", name="Next actions").click()
    expect(page.get_by_role("heading", name="Next actions")).to_be_visible()
    page.select_option("#next-user", label="Rosa Rep")
    first = page.locator(".next-item").first
    expect(first).to_contain_text("Stuck rollout")
    expect(first).to_contain_text("Get back in touch")
    expect(page).to_have_url(re.compile(f"/next\\?user_id={rep.id}$"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
