"""A workflow's holdout group, end to end: records held out by the hash when they would
enroll get neither the tag nor the e-mail (real worker, real SMTP on loopback), a run
whose record is held out behind its back stops before its next action, the share is set
from the API and the builder, and the report and its panel come over HTTP."""

from sqlalchemy import func, select

from pipewise.automation.models import Decision, Enrollment, RecordTag
from pipewise.automation.service import workflow_service
from pipewise.db.base import utcnow
from pipewise.mail.models import EmailMessage
from pipewise.runs.holdout import HoldoutAssignment, falls_in_holdout
from tests.automation.support import drain, make_workflow
from tests.sequences.support import mailbox, smtp  # noqa: F401 - smtp is a fixture
from tests.web.conftest import WebClient

ON_NEW_CONTACT = {"type": "record_created", "record_type": "contact"}
TAG_AND_MAIL = [
    {"id": "tag", "type": "add_tag", "tag": "welcomed"},
    {"id": "hello", "type": "send_email", "subject": "Welcome", "body": "Hello {{ record.first_name }}"},
]


def author(session, factory):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin", name="Ada Admin")
    mailbox(session, admin)
    return admin


def tags(session, record_id) -> list[str]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(RecordTag.tag).where(RecordTag.record_id == record_id)))


def test_held_out_records_are_not_acted_on(session, factory, smtp):  # noqa: F811
    admin = author(session, factory)
    workflow = make_workflow(session, {"trigger": ON_NEW_CONTACT, "steps": TAG_AND_MAIL}, actor=factory.actor(admin),
                             holdout_percent=20)
    held, treated = [], []
    while len(held) < 3 or len(treated) < 3:
        contact = factory.contact(admin)
        (held if falls_in_holdout("workflow", workflow.id, contact.id, 20) else treated).append(contact)
    drain(session)

    for contact in treated:
        assert tags(session, contact.id) == ["welcomed"] and len(smtp.handler.to(contact.email)) == 1
    assert [c.email for c in held if smtp.handler.to(c.email) or tags(session, c.id)] == []  # no automated touch
    held_ids = [c.id for c in held]
    assert session.scalar(select(func.count()).select_from(EmailMessage).where(EmailMessage.contact_id.in_(held_ids))) == 0
    runs = list(session.scalars(select(Enrollment).where(Enrollment.record_id.in_(held_ids))))
    assert {r.status for r in runs} == {"held_out"} and len(runs) == len(held)
    explained = session.scalars(select(Decision).where(Decision.record_id == held[0].id, Decision.kind == "held_out")).one()
    assert "held out of the workflow “Test workflow”" in explained.message and "20 % of records" in explained.message
    assert {a.held_out for a in session.scalars(select(HoldoutAssignment).where(HoldoutAssignment.record_id.in_(held_ids)))} == {True}


def test_a_run_held_out_behind_its_back_stops_before_its_next_action(session, factory, clock, smtp):  # noqa: F811
    admin = author(session, factory)
    steps = [{"id": "pause", "type": "wait", "duration": "1d"}, *TAG_AND_MAIL]
    workflow = make_workflow(session, {"trigger": ON_NEW_CONTACT, "steps": steps}, actor=factory.actor(admin))
    contact = factory.contact(admin)
    drain(session)
    assert session.scalar(select(Enrollment.status).where(Enrollment.record_id == contact.id)) == "waiting"
    session.add(HoldoutAssignment(scope="workflow", subject_id=workflow.id, record_id=contact.id, record_type="contact",
                                  held_out=True, share=10, assigned_at=utcnow()))
    clock.advance(days=2)
    drain(session)
    run = session.scalar(select(Enrollment).where(Enrollment.record_id == contact.id))
    assert run.status == "exited" and run.exit_reason.startswith("held out of the workflow")
    assert tags(session, contact.id) == [] and smtp.handler.messages == []
    assert session.scalar(select(Decision.kind).where(Decision.record_id == contact.id).order_by(Decision.id.desc()).limit(1)) == "held_out"


def test_the_share_over_the_api_and_the_report(session, factory, api):
    admin = factory.user(role="admin", name="Ada Admin")
    headers = factory.headers(admin)
    definition = {"trigger": ON_NEW_CONTACT, "steps": TAG_AND_MAIL[:1]}
    refused = api.post("/api/v1/workflows", json={"name": "Welcome", "definition": definition, "holdout_percent": 25}, headers=headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["holdout_percent"]
    created = api.post("/api/v1/workflows", json={"name": "Welcome", "definition": definition, "holdout_percent": 10}, headers=headers)
    assert created.status_code == 201 and created.json()["holdout_percent"] == 10
    workflow_id = created.json()["id"]
    changed = api.patch(f"/api/v1/workflows/{workflow_id}", json={"holdout_percent": 15}, headers=headers)
    assert changed.status_code == 200 and changed.json()["holdout_percent"] == 15

    report = api.get(f"/api/v1/workflows/{workflow_id}/holdout-effect", headers=headers)
    assert report.status_code == 200
    body = report.json()
    assert (body["share"], body["record_type"], body["enrolled"]["records"], body["held_out"]["records"]) == (15, "contact", 0, 0)
    assert body["verdict"]["state"] == "no_data"


def test_the_builder_sets_the_share_and_the_page_shows_the_panel(session, factory, api):
    admin = factory.user(role="admin", name="Ada Admin")
    workflow = make_workflow(session, {"trigger": ON_NEW_CONTACT, "steps": TAG_AND_MAIL[:1]}, actor=factory.actor(admin),
                             activate=False)
    web = WebClient(api)
    assert web.login(admin).status_code in (302, 303)
    form = {
        "name": "Welcome", "description": "", "trigger_type": "record_created", "record_type": "contact",
        "steps-0-id": "tag", "steps-0-type": "add_tag", "steps-0-tag": "welcomed",
    }
    bad = web.post(f"/automation/{workflow.id}/edit", {**form, "holdout_percent": "30"})
    assert bad.status_code == 422 and "whole percentage from 5 to 20" in bad.text
    good = web.post(f"/automation/{workflow.id}/edit", {**form, "holdout_percent": "12"}, follow_redirects=False)
    assert good.status_code in (302, 303)
    session.expire_all()
    assert workflow_service.get(session, workflow.id).holdout_percent == 12
    assert 'value="12"' in web.get(f"/automation/{workflow.id}/edit").text
    assert f'hx-get="/automation/{workflow.id}/holdout-effect"' in web.get(f"/automation/{workflow.id}").text
    panel = web.get(f"/automation/{workflow.id}/holdout-effect")
    assert panel.status_code == 200 and "12 % of the contacts that would enroll are held out" in panel.text
