"""Enrollment rules, versions, oversight (pause, resume, cancel, approval), test mode and
what the record's timeline shows."""

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.automation.models import Enrollment, Override, RecordTag
from pipewise.automation.service import workflow_service
from pipewise.crm.models import Task
from pipewise.crm.service import contact_service
from pipewise.errors import Conflict, PermissionDenied, ValidationFailed
from pipewise.records.timeline import timeline
from tests.automation.support import MANAGER, drain, enrollments, kinds, make_workflow, messages, only_enrollment

UPDATED = {"type": "record_updated", "record_type": "contact"}
WAIT_THEN_TAG = [{"id": "w", "type": "wait", "duration": "1d"}, {"id": "t", "type": "add_tag", "tag": "v1"}]


def touch(session, contact, title):
    contact_service.update(session, contact, data={"title": title}, actor=SYSTEM_ACTOR)


class TestEnrollmentRules:
    def test_one_enrollment_per_record(self, session, factory, clock):
        contact = factory.contact()
        wf = make_workflow(session, {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]})
        for title in ("A", "B", "C"):
            touch(session, contact, title)
            drain(session)
        assert len(enrollments(session, wf)) == 1

    def test_reenrollment_when_allowed_but_never_two_runs_at_once(self, session, factory, clock):
        contact = factory.contact()
        wf = make_workflow(session, {"trigger": UPDATED, "allow_reenrollment": True, "steps": WAIT_THEN_TAG})
        touch(session, contact, "A")
        drain(session)
        touch(session, contact, "B")  # the first run is still waiting
        drain(session)
        assert len(enrollments(session, wf)) == 1
        clock.advance(days=1, seconds=1)
        drain(session)
        touch(session, contact, "C")
        drain(session)
        assert [e.status for e in enrollments(session, wf)] == ["completed", "waiting"]


class TestVersions:
    def test_running_enrollments_finish_on_the_version_they_started_on(self, session, factory, clock):
        old_contact, new_contact = factory.contact(), factory.contact()
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        touch(session, old_contact, "A")
        drain(session)
        steps_v2 = [{"id": "w", "type": "wait", "duration": "1d"}, {"id": "t", "type": "add_tag", "tag": "v2"}]
        workflow_service.update(session, wf.id, data={"definition": {"trigger": UPDATED, "steps": steps_v2}}, actor=MANAGER)
        touch(session, new_contact, "B")
        drain(session)
        clock.advance(days=1, seconds=1)
        drain(session)
        tag_of = dict(session.execute(select(RecordTag.record_id, RecordTag.tag)).all())
        assert tag_of == {old_contact.id: "v1", new_contact.id: "v2"}
        assert [v.number for v in workflow_service.versions(session, wf.id)] == [2, 1]

    def test_editing_a_live_workflow_is_validated(self, session, factory, clock):
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        with pytest.raises(ValidationFailed) as caught:
            workflow_service.update(
                session, wf.id, data={"definition": {"trigger": UPDATED, "steps": [{"id": "s", "type": "set_field", "field": "shoe_size", "value": 1}]}},
                actor=MANAGER,
            )
        assert caught.value.errors[0].field == "definition.steps[0].field"
        assert workflow_service.get(session, wf.id).latest_version == 1


class TestOversight:
    def test_pause_and_resume_the_workflow(self, session, factory, clock):
        contact = factory.contact()
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        touch(session, contact, "A")
        drain(session)
        with pytest.raises(ValidationFailed):
            workflow_service.pause(session, wf.id, actor=MANAGER, reason=" ")
        workflow_service.pause(session, wf.id, actor=MANAGER, reason="copy is wrong")
        clock.advance(days=2)
        drain(session)
        assert session.scalar(select(RecordTag.tag)) is None
        workflow_service.resume(session, wf.id, actor=MANAGER, reason="fixed")
        drain(session)
        assert session.scalar(select(RecordTag.tag)) == "v1"
        actions = [(o.action, o.reason) for o in session.scalars(select(Override).order_by(Override.id))]
        assert actions[-2:] == [("paused", "copy is wrong"), ("resumed", "fixed")]

    def test_pause_resume_and_cancel_one_enrollment(self, session, factory, clock):
        rep = factory.user()
        contact = factory.contact(owner=rep)
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        touch(session, contact, "A")
        drain(session)
        enrollment = only_enrollment(session, wf)
        as_rep = factory.actor(rep)
        workflow_service.pause_enrollment(session, enrollment.id, actor=as_rep, reason="talking to them myself")
        clock.advance(days=2)
        drain(session)
        assert only_enrollment(session, wf).status == "paused"
        workflow_service.resume_enrollment(session, enrollment.id, actor=as_rep)
        drain(session)
        assert only_enrollment(session, wf).status == "completed"
        with pytest.raises(Conflict):
            workflow_service.cancel_enrollment(session, enrollment.id, actor=as_rep, reason="too late")
        assert kinds(session, contact.id)[2:5] == ["paused", "resumed", "waited"]
        assert f"paused: by {rep.name}: talking to them myself" in messages(session, contact.id)

    def test_a_rep_of_another_team_cannot_touch_an_enrollment(self, session, factory, clock):
        owner = factory.user(team=factory.team())
        outsider = factory.user(team=factory.team())
        contact = factory.contact(owner=owner)
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        touch(session, contact, "A")
        drain(session)
        with pytest.raises(Exception) as caught:
            workflow_service.cancel_enrollment(session, only_enrollment(session, wf).id, actor=factory.actor(outsider), reason="x")
        assert caught.type.__name__ in ("NotFound", "PermissionDenied")

    def test_activation_needs_a_managers_approval_when_asked(self, session, factory, clock):
        team = factory.team()
        rep = Actor.for_user(session, factory.user(team=team))
        manager = Actor.for_user(session, factory.user(role="manager", team=team))
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG}, activate=False, requires_approval=True, actor=rep)
        workflow_service.activate(session, wf.id, actor=rep)
        assert wf.status == "draft" and wf.pending_version_id is not None
        with pytest.raises(PermissionDenied):
            workflow_service.approve(session, wf.id, actor=rep)
        workflow_service.approve(session, wf.id, actor=manager, reason="looks right")
        assert wf.status == "active"
        version = workflow_service.versions(session, wf.id)[0]
        assert version.approved_by == manager.id and version.published_at is not None
        actions = [(o.action, o.actor_id) for o in session.scalars(select(Override).order_by(Override.id))]
        assert actions == [("approval_requested", rep.id), ("approved", manager.id)]

    def test_archive_cancels_open_runs(self, session, factory, clock):
        contact = factory.contact()
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        touch(session, contact, "A")
        drain(session)
        workflow_service.archive(session, wf.id, actor=MANAGER, reason="campaign over")
        drain(session)
        assert only_enrollment(session, wf).status == "cancelled"
        clock.advance(days=2)
        drain(session)
        assert session.scalar(select(RecordTag.tag)) is None


class TestTestMode:
    def test_runs_a_draft_on_one_record_with_effects_redirected_to_the_tester(self, session, factory, clock):
        team = factory.team()
        tester = factory.user(role="manager", team=team)
        owner = factory.user(team=team)
        contact = factory.contact(owner=owner)
        wf = make_workflow(
            session,
            {"trigger": UPDATED, "steps": [
                {"id": "w", "type": "wait", "duration": "3d"},
                {"id": "t", "type": "create_task", "title": "Call"},
                {"id": "s", "type": "set_field", "field": "title", "value": "Changed"},
                {"id": "h", "type": "webhook", "url": "http://127.0.0.1:9/never"},
            ]},
            activate=False,
        )
        result = workflow_service.start_test(session, wf.id, record_id=contact.id, actor=factory.actor(tester))
        assert result.status == "enrolled" and result.enrollment.test_mode
        drain(session)
        assert only_enrollment(session, wf).status == "completed"
        assert session.scalar(select(Task.owner_id)) == tester.id
        assert contact_service.get(session, contact.id, actor=SYSTEM_ACTOR).title is None
        said = messages(session, contact.id)
        assert any("would wait until" in m for m in said)
        assert "skipped: Test mode: would set contact.title to Changed" in said
        assert "skipped: Test mode: would POST to http://127.0.0.1:9/never" in said
        assert session.scalar(select(Enrollment.test_mode)) is True


class TestExplanations:
    def test_the_timeline_tells_the_whole_story(self, session, factory, clock):
        contact = factory.contact()
        make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG}, name="Nurture")
        touch(session, contact, "A")
        drain(session)
        clock.advance(days=1, seconds=1)
        drain(session)
        titles = [e.title for e in timeline(session, "contact", contact.id) if e.kind == "automation"]
        assert titles[0] == "Nurture (v1) — Finished: every step is done"
        assert titles[-1] == "Nurture (v1) — Enrolled: contact updated (title)"
        assert any(t.startswith("Nurture (v1) — Waiting: Wait 1 day: until ") for t in titles)

    def test_a_deleted_record_leaves_the_workflow(self, session, factory, clock):
        contact = factory.contact()
        wf = make_workflow(session, {"trigger": UPDATED, "steps": WAIT_THEN_TAG})
        touch(session, contact, "A")
        drain(session)
        contact_service.delete(session, contact, actor=SYSTEM_ACTOR)
        clock.advance(days=2)
        drain(session)
        assert only_enrollment(session, wf).exit_reason == "the contact was deleted"
