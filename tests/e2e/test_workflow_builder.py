"""A manager builds a workflow in a real browser with the builder's widgets: picks a
trigger and sees its options, adds a condition row and steps, reorders them, fixes the
problem the server reports beside the field, saves, and the stored definition is the one
the page showed."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from pipewise.automation.service import workflow_service
from pipewise.records.saved_views import saved_view_service
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e


def test_build_a_workflow_with_the_widgets(page: Page, factory, session):
    manager = factory.user(role="manager", name="Mia Manager", password="correct-horse")
    session.commit()
    log_in(page, manager.email)

    page.goto("/automation/new")
    page.fill("#name", "Hot contacts")
    page.select_option("#trigger_type", "field_changed")
    expect(page.locator('[data-trigger="field_changed"]')).to_be_visible()
    expect(page.locator('[data-trigger="schedule"]')).to_be_hidden()
    expect(page.locator("#trigger-schedule-cron")).to_be_disabled()  # a hidden trigger's options are not sent
    page.fill("#trigger-field_changed-field", "lifecycle_stage")
    page.fill("#trigger-field_changed-to", "sql")

    conditions = page.locator('[data-conditions="conditions"]')
    conditions.get_by_role("button", name="Add condition").click()
    conditions.locator('input[name="conditions-0-field"]').fill("title")
    conditions.locator('select[name="conditions-0-op"]').select_option("in")
    conditions.locator('input[name="conditions-0-value"]').fill("CEO, CTO")

    # The starter step stays first for now; a wait with a bad duration is added after it.
    page.select_option("[data-new-step-type]", "wait")
    page.get_by_role("button", name="Add step").click()
    wait_card = page.locator("[data-step]").nth(1)
    expect(wait_card.locator("[data-step-id]")).to_have_value("wait")
    wait_card.locator('input[name$="-duration"]').fill("soon")
    wait_card.get_by_role("button", name="Move step up").click()
    expect(page.locator("[data-step]").first.locator("[data-step-id]")).to_have_value("wait")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("not saved")
    first = page.locator("[data-step]").first
    expect(first).to_contain_text("is not a duration")
    first.locator('input[name$="-duration"]').fill("2d")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/automation/[0-9a-f-]{36}$"))

    workflow_id = uuid.UUID(page.url.rsplit("/", 1)[-1])
    session.expire_all()
    definition = workflow_service.latest(session, workflow_service.get(session, workflow_id)).definition
    assert definition["trigger"]["field"] == "lifecycle_stage" and definition["trigger"]["to"] == "sql"
    assert definition["conditions"] == {"all": [{"field": "title", "op": "in", "value": ["CEO", "CTO"]}]}
    assert [(s["id"], s["type"]) for s in definition["steps"]] == [("wait", "wait"), ("welcome", "create_task")]
    assert definition["steps"][0]["duration"] == "2d"


def test_a_saved_view_becomes_the_enrollment_condition(page: Page, factory, session):
    manager = factory.user(role="manager", password="correct-horse")
    view = saved_view_service.create(
        session, {"name": "Big open deals", "record_type": "deal", "query": "amount__gte=5000&owner_id=" + str(manager.id)},
        actor=factory.actor(manager),
    )
    session.commit()
    log_in(page, manager.email)

    page.goto("/automation/new")
    page.fill("#name", "Big deals")
    page.locator('[data-conditions="conditions"] [data-use-view]').select_option(label="deal: Big open deals")
    expect(page.locator("#record_type")).to_have_value("deal")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/automation/[0-9a-f-]{36}$"))

    session.expire_all()
    workflow = workflow_service.get(session, uuid.UUID(page.url.rsplit("/", 1)[-1]))
    definition = workflow_service.latest(session, workflow).definition
    assert definition["trigger"]["record_type"] == "deal"
    assert definition["conditions"] == view.filter
