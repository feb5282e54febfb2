"""The holdout panel in a real browser: htmx loads it into the sequence's and the
workflow's page, with its table of metrics, at desktop and phone width, with nothing to
scroll sideways and no console error."""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.service import workflow_service
from pipewise.db.base import utcnow
from pipewise.deals.service import deal_service
from pipewise.runs.holdout import HoldoutAssignment
from pipewise.sequences.service import sequence_service
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

WORKFLOW = {"trigger": {"type": "manual", "record_type": "contact"}, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]}


def test_the_panel_loads_on_both_pages_at_every_width(page: Page, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin", name="Ada Admin")
    _pipeline, stages = factory.pipeline()
    sequence = sequence_service.create(session, data={"name": "Intro", "holdout_percent": 10}, actor=SYSTEM_ACTOR)
    workflow = workflow_service.create(session, name="Welcome", definition=WORKFLOW, actor=factory.actor(admin), holdout_percent=15)
    for n in range(8):
        contact = factory.contact(admin)
        session.add(HoldoutAssignment(scope="sequence", subject_id=sequence.id, record_id=contact.id, record_type="contact",
                                      held_out=n % 4 == 0, share=10, assigned_at=utcnow()))
        session.flush()
        deal = factory.deal(admin, stage_id=stages[4].id if n % 2 else stages[0].id, amount=Decimal("1250.00"))
        deal_service.add_contact(session, deal.id, contact.id, role=None, actor=SYSTEM_ACTOR)
    session.commit()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    log_in(page, admin.email)

    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/sequences/{sequence.id}")
        expect(page.locator("#holdout-verdict")).to_contain_text("No measurable effect yet; need about")
        expect(page.locator(".holdout-table tbody tr")).to_have_count(4)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"sequence page at {width}px"
        page.goto(f"/automation/{workflow.id}")
        expect(page.locator("#holdout-verdict")).to_contain_text("No contacts assigned yet")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"workflow page at {width}px"
    assert problems == []
