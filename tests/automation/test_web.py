"""The automation pages: list, builder form with field-level errors, the workflow page
with run history, and the controls people use."""

import re
import uuid

import pytest

from tests.automation.support import drain
from tests.web.conftest import WebClient


@pytest.fixture
def web(api):
    return WebClient(api)


STEPS = {"steps-0-type": "add_tag", "steps-0-id": "tag", "steps-0-tag": "vip"}
CEO_ONLY = {"conditions-match": "all", "conditions-0-field": "title", "conditions-0-op": "eq", "conditions-0-value": "CEO"}


def test_build_activate_and_read_the_history(web, session, factory):
    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    assert "No workflows yet" in web.get("/automation").text
    r = web.post("/automation/new", {"name": "Tag CEOs", "trigger_type": "record_created", "record_type": "contact",
                                     **CEO_ONLY, **STEPS},
                 follow_redirects=False)
    assert r.status_code == 303
    page = r.headers["location"]
    r = web.post(f"{page}/activate", follow_redirects=True)
    assert "Done: activate" in r.text and "v1 live" in r.text
    factory.contact(title="Intern")
    drain(session)
    history = web.get(page).text
    assert "Not enrolled: contact.title Intern is not CEO" in history
    assert "Tag CEOs" in web.get("/automation").text


def test_the_form_shows_every_problem_by_section(web, session, factory):
    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    r = web.post("/automation/new", {"name": "Broken", "trigger_type": "field_changed", "record_type": "contact",
                                     "conditions-json": "{not json", **STEPS})
    assert r.status_code == 422 and "could not be read: Expecting property name" in r.text
    r = web.post("/automation/new", {"name": "Broken", "trigger_type": "record_created", "record_type": "contact",
                                     "steps-0-type": "wait", "steps-0-id": "w", "steps-0-duration": "soon"})
    assert r.status_code == 422 and 'value="Broken"' in r.text
    duration_widget = re.search(r'name="steps-0-duration"(.*?)</div>', r.text, re.S).group(1)
    assert "&#39;soon&#39; is not a duration such as 30m" in duration_widget  # beside the field it is about
    assert 'name="steps-0-duration" value="soon"' in r.text  # what was typed is shown again


def test_pause_needs_a_reason(web, session, factory):
    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    page = web.post("/automation/new", {"name": "P", "trigger_type": "manual", "record_type": "contact", **STEPS},
                    follow_redirects=False).headers["location"]
    web.post(f"{page}/activate")
    r = web.post(f"{page}/pause", {"reason": ""}, follow_redirects=True)
    assert "reason: say why" in r.text
    r = web.post(f"{page}/pause", {"reason": "wrong copy"}, follow_redirects=True)
    assert "paused" in r.text and "wrong copy" in r.text


def test_the_builder_round_trips_every_kind_of_option(web, session, factory):
    """Trigger options, condition rows, a JSON goal, grouped and multi-choice options:
    saved, shown again on the edit page, and saved again unchanged."""
    from pipewise.automation.service import workflow_service

    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    form = {
        "name": "Round trip", "trigger_type": "field_changed", "record_type": "contact",
        "trigger-field_changed-field": "lifecycle_stage", "trigger-field_changed-to": "sql",
        "conditions-match": "any", "conditions-0-field": "title", "conditions-0-op": "in", "conditions-0-value": "CEO, CTO",
        "conditions-1-field": "email", "conditions-1-op": "is_not_empty",
        "goal-json": '{"not": {"field": "title", "op": "eq", "value": "Intern"}}',
        "steps-3-type": "notify", "steps-3-id": "tell", "steps-3-title": "Hot lead", "steps-3-recipient.to": "owner",
        "steps-3-channels": ["in_app", "email"],
        "steps-1-type": "wait", "steps-1-id": "pause", "steps-1-business_days": "2",
    }
    r = web.post("/automation/new", form, follow_redirects=False)
    assert r.status_code == 303, re.findall(r'field-error">([^<]*)', r.text)
    workflow_id = uuid.UUID(r.headers["location"].rsplit("/", 1)[-1])
    saved = workflow_service.latest(session, workflow_service.get(session, workflow_id)).definition
    assert (saved["trigger"]["field"], saved["trigger"]["to"]) == ("lifecycle_stage", "sql")
    assert saved["conditions"] == {"any": [{"field": "title", "op": "in", "value": ["CEO", "CTO"]}, {"field": "email", "op": "is_not_empty"}]}
    assert saved["goal"] == {"not": {"field": "title", "op": "eq", "value": "Intern"}}
    assert [s["id"] for s in saved["steps"]] == ["tell", "pause"]  # the order of the page, not of the input names
    assert saved["steps"][0]["recipient"]["to"] == "owner" and saved["steps"][0]["channels"] == ["in_app", "email"]
    assert saved["steps"][1]["business_days"] == 2

    page = web.get(f"/automation/{workflow_id}/edit").text
    assert 'name="trigger-field_changed-to" value="sql"' in page
    assert 'name="conditions-0-value" value="CEO, CTO"' in page
    assert "&#34;not&#34;" in page or "&quot;not&quot;" in page  # the nested goal is offered as JSON
    assert re.search(r'name="steps-0-channels" value="email" checked', page)


def test_dry_run_and_test_run_from_the_workflow_page(web, session, factory):
    admin = factory.user(role="admin")
    contact = factory.contact(admin, title="CEO", last_name="Boss")
    factory.contact(admin, title="Intern")
    session.commit()
    web.login(admin)
    page = web.post("/automation/new", {"name": "Tag CEOs", "trigger_type": "record_created", "record_type": "contact",
                                        **CEO_ONLY, **STEPS}, follow_redirects=False).headers["location"]
    shown = web.get(page).text
    assert 'name="dry_run"' in shown and "Start a test run" in shown and 'hx-get="/web/lookup/contact"' in shown

    replay = web.get(f"{page}?dry_run=30")
    assert replay.status_code == 200 and "Dry-run: the past 30 days" in replay.text
    assert "<strong>1</strong> would have run" in replay.text and "1 would not" in replay.text
    assert web.get(f"{page}?dry_run=12").status_code == 422

    started = web.post(f"{page}/test-run", {"record_id": str(contact.id), "check_conditions": "on"})
    assert "Test run started" in started.text
    assert "Pick the record" in web.post(f"{page}/test-run", {"record_id": ""}).text


def test_the_builder_picks_stages_users_and_teams_by_name(web, session, factory):
    team = factory.team(name="Closers")
    admin = factory.user(role="admin", name="Ada Admin")
    _pipeline, stages = factory.pipeline()
    session.commit()
    web.login(admin)
    form = web.get("/automation/new").text
    for name in (stages[1].name, "Ada Admin", "Closers"):
        assert f">{name}<" in form or f"· {name}<" in form, name
    saved = web.post("/automation/new", {
        "name": "Hand over", "trigger_type": "stage_changed", "record_type": "deal",
        "trigger-stage_changed-to_stage_id": str(stages[1].id),
        "steps-0-type": "assign_owner", "steps-0-id": "owner", "steps-0-assignee.to": "round_robin",
        "steps-0-assignee.team_id": str(team.id),
    }, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    edit = web.get(f"{saved.headers['location']}/edit").text
    assert f'<option value="{team.id}" selected>Closers</option>' in edit
    assert re.search(rf'<option value="{stages[1].id}" selected>[^<]*{stages[1].name}</option>', edit)
