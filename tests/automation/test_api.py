"""The automation API end to end: create, validate, activate, enroll, history, oversight,
import/export, simulate and test runs; bad input gets field-level 4xx answers."""

from datetime import timedelta

import yaml

from pipewise.db.base import utcnow
from tests.automation.support import drain

DEFINITION = {
    "trigger": {"type": "manual", "record_type": "contact"},
    "conditions": {"field": "title", "op": "eq", "value": "CEO"},
    "steps": [
        {"id": "wait", "type": "wait", "duration": "2d"},
        {"id": "call", "type": "create_task", "title": "Call {{ record.last_name }}"},
    ],
}


def make(api, headers, definition=DEFINITION, name="Nurture CEOs"):
    r = api.post("/api/v1/workflows", json={"name": name, "definition": definition}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_lifecycle_through_the_api(api, session, factory):
    admin = factory.user(role="admin")
    headers = factory.headers(admin)
    ceo, intern = factory.contact(title="CEO"), factory.contact(title="Intern")
    session.commit()
    wf = make(api, headers)
    assert wf["status"] == "draft" and wf["live_version"] is None
    assert api.post(f"/api/v1/workflows/{wf['id']}/validate", headers=headers).json() == {"valid": True}
    active = api.post(f"/api/v1/workflows/{wf['id']}/activate", headers=headers).json()
    assert active["status"] == "active" and active["live_version"] == 1

    r = api.post(f"/api/v1/workflows/{wf['id']}/enrollments", json={"record_ids": [str(ceo.id), str(intern.id)]}, headers=headers)
    assert [o["status"] for o in r.json()] == ["enrolled", "not_enrolled"]
    assert r.json()[1]["reason"] == "contact.title Intern is not CEO"
    drain(session)

    enrollments = api.get(f"/api/v1/workflows/{wf['id']}/enrollments", headers=headers).json()
    assert [(e["record_id"], e["status"]) for e in enrollments] == [(str(ceo.id), "waiting")]
    runs = api.get(f"/api/v1/workflows/{wf['id']}/runs", headers=headers).json()
    assert "Not enrolled: contact.title Intern is not CEO" in [d["sentence"] for d in runs]
    timeline = api.get(f"/api/v1/contacts/{ceo.id}/timeline", headers=headers).json()
    assert any(e["kind"] == "automation" and "Waiting: Wait 2 days" in e["title"] for e in timeline)

    enrollment_id = enrollments[0]["id"]
    r = api.post(f"/api/v1/enrollments/{enrollment_id}/pause", json={}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = api.post(f"/api/v1/enrollments/{enrollment_id}/pause", json={"reason": "on holiday"}, headers=headers)
    assert r.json()["status"] == "paused"
    r = api.post(f"/api/v1/enrollments/{enrollment_id}/cancel", json={"reason": "not a fit"}, headers=headers)
    assert r.json()["status"] == "cancelled"
    overrides = api.get(f"/api/v1/workflows/{wf['id']}/overrides", headers=headers).json()
    assert [o["action"] for o in overrides][:2] == ["cancelled", "paused"]


def test_editing_a_live_workflow_makes_a_version(api, session, factory):
    headers = factory.headers(factory.user(role="admin"))
    wf = make(api, headers)
    api.post(f"/api/v1/workflows/{wf['id']}/activate", headers=headers)
    changed = {**DEFINITION, "steps": [{"id": "call", "type": "create_task", "title": "Call now"}]}
    r = api.patch(f"/api/v1/workflows/{wf['id']}", json={"definition": changed}, headers=headers)
    assert (r.json()["live_version"], r.json()["latest_version"]) == (2, 2)
    versions = api.get(f"/api/v1/workflows/{wf['id']}/versions", headers=headers).json()
    assert [v["number"] for v in versions] == [2, 1]


def test_bad_definitions_get_field_level_errors(api, session, factory):
    headers = factory.headers(factory.user(role="admin"))
    bad = {"trigger": {"type": "record_created", "record_type": "contact", "colour": "red"},
           "steps": [{"id": "x", "type": "teleport"}, {"id": "w", "type": "wait", "duration": "soon"}]}
    r = api.post("/api/v1/workflows", json={"name": "Bad", "definition": bad}, headers=headers)
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["definition.trigger.colour"] == "is not a known field"
    assert fields["definition.steps[0]"].startswith("unknown type")
    assert "is not a duration" in fields["definition.steps[1].duration"]

    unreachable = {"trigger": {"type": "manual"}, "steps": [
        {"id": "a", "type": "add_tag", "tag": "x", "next": "end"},
        {"id": "b", "type": "send_email", "subject": "Hi {{ nobody }}", "body": "x"},
        {"id": "c", "type": "set_field", "field": "shoe_size", "value": 1},
    ]}
    wf = make(api, headers, unreachable, name="Unreachable")
    r = api.post(f"/api/v1/workflows/{wf['id']}/activate", headers=headers)
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["definition.steps[1].subject"].startswith("unknown template variable nobody")
    assert fields["definition.steps[2].field"] == "contact has no field 'shoe_size'"
    assert api.get(f"/api/v1/workflows/{wf['id']}", headers=headers).json()["status"] == "draft"


def test_unreachable_steps_and_loops_block_activation(api, session, factory):
    headers = factory.headers(factory.user(role="admin"))
    wf = make(api, headers, {"trigger": {"type": "manual"}, "steps": [
        {"id": "a", "type": "add_tag", "tag": "x", "next": "end"}, {"id": "b", "type": "add_tag", "tag": "y"}]}, name="U")
    errors = api.post(f"/api/v1/workflows/{wf['id']}/validate", headers=headers).json()["errors"]
    assert errors == [{"field": "definition.steps[1]", "message": "step 'b' can never be reached"}]
    wf = make(api, headers, {"trigger": {"type": "manual"}, "steps": [
        {"id": "a", "type": "wait", "duration": "1d"}, {"id": "b", "type": "add_tag", "tag": "y", "next": "a"}]}, name="L")
    errors = api.post(f"/api/v1/workflows/{wf['id']}/validate", headers=headers).json()["errors"]
    assert errors == [{"field": "definition.steps", "message": "the steps form a loop; every run must move forward to an end"}]
    wf = make(api, headers, {"trigger": {"type": "manual"}, "steps": [
        {"id": "a", "type": "branch", "condition": {"field": "nope", "op": "eq", "value": 1}, "then": "zz"}]}, name="B")
    fields = {e["field"] for e in api.post(f"/api/v1/workflows/{wf['id']}/validate", headers=headers).json()["errors"]}
    assert fields == {"definition.steps[0].then", "definition.steps[0].condition.nope"}


def test_export_and_import_round_trip(api, session, factory):
    headers = factory.headers(factory.user(role="admin"))
    wf = make(api, headers)
    text = api.get(f"/api/v1/workflows/{wf['id']}/export", headers=headers).text
    document = yaml.safe_load(text)
    assert document["name"] == "Nurture CEOs" and document["steps"][1]["title"] == "Call {{ record.last_name }}"
    r = api.post("/api/v1/workflows/import", content=text.replace("Nurture CEOs", "Copy"), headers={**headers, "Content-Type": "application/yaml"})
    assert r.status_code == 201 and r.json()["name"] == "Copy" and r.json()["definition"] == wf["definition"]
    as_json = api.get(f"/api/v1/workflows/{wf['id']}/export?format=json", headers=headers).text
    assert api.post("/api/v1/workflows/import", content=as_json, headers={**headers, "Content-Type": "application/json"}).status_code == 201
    r = api.post("/api/v1/workflows/import", content="name: [unclosed", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


def test_rep_needs_approval_when_the_workflow_asks(api, session, factory):
    team = factory.team()
    rep, manager = factory.user(team=team), factory.user(role="manager", team=team)
    rep_headers, manager_headers = factory.headers(rep), factory.headers(manager)
    r = api.post("/api/v1/workflows", json={"name": "Rep's", "requires_approval": True, "definition": DEFINITION}, headers=rep_headers)
    wf = r.json()
    r = api.post(f"/api/v1/workflows/{wf['id']}/activate", headers=rep_headers)
    assert r.json()["status"] == "draft" and r.json()["pending_approval"] is True
    assert api.post(f"/api/v1/workflows/{wf['id']}/approve", headers=rep_headers).status_code == 403
    r = api.post(f"/api/v1/workflows/{wf['id']}/approve", json={"reason": "ok"}, headers=manager_headers)
    assert r.json()["status"] == "active"


def test_simulate_and_test_run(api, session, factory):
    admin = factory.user(role="admin")
    headers = factory.headers(admin)
    contact = factory.contact(title="CEO", owner=admin)
    session.commit()
    definition = {**DEFINITION, "trigger": {"type": "record_created", "record_type": "contact"}}
    wf = make(api, headers, definition)
    window = {"start": (utcnow() - timedelta(hours=1)).isoformat(), "end": (utcnow() + timedelta(days=5)).isoformat()}
    report = api.post(f"/api/v1/workflows/{wf['id']}/simulate", json=window, headers=headers).json()
    assert report["enrolled_count"] == 1 and report["runs"][0]["record_id"] == str(contact.id)
    assert [s["step_id"] for s in report["runs"][0]["steps"]] == ["wait", "call"]
    r = api.post(f"/api/v1/workflows/{wf['id']}/test", json={"record_id": str(contact.id)}, headers=headers)
    assert r.json()["status"] == "enrolled"
    r = api.post("/api/v1/workflows/simulate", json={**window, "definition": {"steps": []}}, headers=headers)
    assert r.status_code == 422
