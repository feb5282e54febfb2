"""A workflow acts with its owner's rights: a rep's workflow cannot read or change another
team's records, in the live engine, in dry-run and in test mode; editing and approving a
workflow follow the same lines; run lists show only records the reader can see."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import Decision, WorkflowVersion
from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal
from pipewise.people.service import team_service, user_service
from tests.automation.receiver import running_receiver
from tests.automation.support import MANAGER, clock, drain, make_workflow  # noqa: F401 - clock is a fixture
from tests.web.conftest import WebClient

UPDATED = {"type": "record_updated", "record_type": "contact"}


class Org:
    """Teams East and West, each with a rep and a manager, and an admin."""

    def __init__(self, session, factory):
        self.session, self.factory = session, factory
        self.east, self.west = factory.team("East"), factory.team("West")
        self.rep_east = factory.user(team=self.east)
        self.rep_east_2 = factory.user(team=self.east)
        self.rep_west = factory.user(team=self.west)
        self.manager_east = factory.user(role="manager", team=self.east)
        self.manager_west = factory.user(role="manager", team=self.west)
        self.admin = factory.user(role="admin")
        team_service.update(session, self.east, data={"manager_id": self.manager_east.id}, actor=SYSTEM_ACTOR)
        team_service.update(session, self.west, data={"manager_id": self.manager_west.id}, actor=SYSTEM_ACTOR)
        self.east_contact = factory.contact(owner=self.rep_east, title="Buyer")
        self.west_contact = factory.contact(owner=self.rep_west, title="Buyer")
        session.commit()

    def headers(self, user):
        return self.factory.headers(user)


@pytest.fixture
def org(session, factory):
    return Org(session, factory)


@pytest.fixture
def allow_loopback(monkeypatch):
    monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def approved_workflow(api, org, definition, *, author=None, name="Catch-all"):
    """``author`` (default: the East rep) creates it needing approval; an admin approves it."""
    author = author or org.rep_east
    r = api.post("/api/v1/workflows", json={"name": name, "definition": definition, "requires_approval": True},
                 headers=org.headers(author))
    assert r.status_code == 201, r.text
    wf = r.json()
    r = api.post(f"/api/v1/workflows/{wf['id']}/activate", headers=org.headers(author))
    assert r.json()["status"] == "draft" and r.json()["pending_approval"] is True
    r = api.post(f"/api/v1/workflows/{wf['id']}/approve", json={"reason": "ok"}, headers=org.headers(org.admin))
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return wf


def edit_title(api, org, user, contact, title):
    r = api.patch(f"/api/v1/contacts/{contact.id}", json={"title": title}, headers=org.headers(user))
    assert r.status_code == 200, r.text


def attack_steps(org, receiver_url):
    return [
        {"id": "mark", "type": "set_field", "field": "title", "value": "Taken over"},
        {"id": "leak", "type": "webhook", "url": receiver_url, "secret": "s"},
        {"id": "grab", "type": "assign_owner", "assignee": {"to": "user", "user_id": str(org.rep_east.id)}},
    ]


def decisions_on(session, record_id):
    return [f"{d.kind}: {d.message}" for d in session.scalars(select(Decision).where(Decision.record_id == record_id).order_by(Decision.id))]


class TestLiveEngine:
    def test_a_reps_approved_workflow_cannot_touch_another_teams_record(self, api, session, org, allow_loopback):
        with running_receiver("s") as receiver:
            approved_workflow(api, org, {"trigger": UPDATED, "steps": attack_steps(org, receiver.url)})
            edit_title(api, org, org.rep_west, org.west_contact, "Head of buying")
            drain(session)
            assert receiver.deliveries == {}
        west = session.get(Contact, org.west_contact.id)
        assert (west.title, west.owner_id) == ("Head of buying", org.rep_west.id)
        [decision] = decisions_on(session, west.id)
        assert decision == f"not_enrolled: the workflow acts as its owner {org.rep_east.name}, who cannot see this contact"

    def test_the_same_workflow_still_acts_on_the_owners_records(self, api, session, org, allow_loopback):
        with running_receiver("s") as receiver:
            approved_workflow(api, org, {"trigger": UPDATED, "steps": attack_steps(org, receiver.url)})
            edit_title(api, org, org.rep_east, org.east_contact, "Head of buying")
            drain(session)
            drain(session)
            assert len(receiver.accepted) == 1
            body = next(iter(receiver.bodies.values()))
        assert body["record"]["id"] == str(org.east_contact.id)
        assert session.get(Contact, org.east_contact.id).title == "Taken over"

    def test_move_stage_on_another_teams_deal_is_refused(self, api, session, org):
        _pipeline, stages = org.factory.pipeline()
        west_deal = org.factory.deal(owner=org.rep_west, stage_id=stages[0].id)
        session.commit()
        definition = {"trigger": {"type": "record_updated", "record_type": "deal"},
                      "steps": [{"id": "win", "type": "move_stage", "stage": "Closed won"}]}
        approved_workflow(api, org, definition)
        r = api.patch(f"/api/v1/deals/{west_deal.id}", json={"name": "Renamed"}, headers=org.headers(org.rep_west))
        assert r.status_code == 200, r.text
        drain(session)
        assert session.get(Deal, west_deal.id).stage_id == stages[0].id
        assert decisions_on(session, west_deal.id) == [
            f"not_enrolled: the workflow acts as its owner {org.rep_east.name}, who cannot see this deal"
        ]

    def test_a_write_beyond_the_owners_reach_fails_explained(self, api, session, org, monkeypatch):
        """With open read access the owner sees the record, so it enrolls; the change is
        refused by the service and the run fails with the reason."""
        monkeypatch.setenv("PIPEWISE_OPEN_READ_ACCESS", "true")
        get_settings.cache_clear()
        steps = [{"id": "mark", "type": "set_field", "field": "title", "value": "Taken over"}]
        approved_workflow(api, org, {"trigger": UPDATED, "steps": steps})
        edit_title(api, org, org.rep_west, org.west_contact, "Head of buying")
        drain(session)
        assert session.get(Contact, org.west_contact.id).title == "Head of buying"
        failed = decisions_on(session, org.west_contact.id)[-1]
        assert failed.startswith("failed: ") and "may read this contact but not change it" in failed
        assert f"the workflow acts as its owner {org.rep_east.name}" in failed
        get_settings.cache_clear()

    def test_a_record_leaving_the_owners_view_mid_run_stops_the_run(self, api, session, org, clock):
        steps = [{"id": "wait", "type": "wait", "duration": "1d"},
                 {"id": "mark", "type": "set_field", "field": "title", "value": "Taken over"}]
        approved_workflow(api, org, {"trigger": UPDATED, "steps": steps})
        edit_title(api, org, org.rep_east, org.east_contact, "Head of buying")
        drain(session)
        contact = session.get(Contact, org.east_contact.id)
        contact_service.update(session, contact, data={"owner_id": org.rep_west.id}, actor=SYSTEM_ACTOR)
        session.commit()
        clock.advance(days=1, minutes=1)
        drain(session)
        contact = session.get(Contact, org.east_contact.id)
        assert contact.title == "Head of buying"
        assert decisions_on(session, contact.id)[-1] == (
            f"skipped: the workflow acts as its owner {org.rep_east.name}, who cannot see this contact"
        )

    def test_a_deactivated_owners_workflow_does_not_act(self, api, session, org):
        steps = [{"id": "mark", "type": "set_field", "field": "title", "value": "Taken over"}]
        approved_workflow(api, org, {"trigger": UPDATED, "steps": steps})
        user_service.update(session, session.get(User, org.rep_east.id), data={"is_active": False}, actor=SYSTEM_ACTOR)
        session.commit()
        edit_title(api, org, org.manager_east, org.east_contact, "Head of buying")
        drain(session)
        assert session.get(Contact, org.east_contact.id).title == "Head of buying"
        assert decisions_on(session, org.east_contact.id) == [
            f"not_enrolled: the workflow's owner {org.rep_east.name} is deactivated, so it does not act"
        ]


class TestDryRunAndTestMode:
    def test_dry_run_leaves_out_what_the_owner_cannot_see(self, api, session, org):
        wf = approved_workflow(api, org, {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]})
        start = utcnow() - timedelta(minutes=1)
        edit_title(api, org, org.rep_west, org.west_contact, "Head of buying")
        edit_title(api, org, org.rep_east, org.east_contact, "Head of buying")
        window = {"start": start.isoformat(), "end": (utcnow() + timedelta(minutes=1)).isoformat()}

        as_owner = api.post(f"/api/v1/workflows/{wf['id']}/simulate", json=window, headers=org.headers(org.rep_east)).json()
        assert [run["record_id"] for run in as_owner["runs"]] == [str(org.east_contact.id)]
        assert str(org.west_contact.id) not in str(as_owner)

        as_admin = api.post(f"/api/v1/workflows/{wf['id']}/simulate", json=window, headers=org.headers(org.admin)).json()
        assert [run["record_id"] for run in as_admin["runs"]] == [str(org.east_contact.id)]
        assert [(r["record_id"], r["reason"]) for r in as_admin["not_enrolled"]] == [
            (str(org.west_contact.id), f"the workflow acts as its owner {org.rep_east.name}, who cannot see this contact")
        ]

    def test_test_mode_keeps_the_owners_rights(self, api, session, org, allow_loopback):
        with running_receiver("s") as receiver:
            wf = approved_workflow(api, org, {"trigger": UPDATED, "steps": attack_steps(org, receiver.url)})
            foreign = {"record_id": str(org.west_contact.id)}
            r = api.post(f"/api/v1/workflows/{wf['id']}/test", json=foreign, headers=org.headers(org.rep_east))
            assert r.status_code == 404
            r = api.post(f"/api/v1/workflows/{wf['id']}/test", json=foreign, headers=org.headers(org.admin))
            assert r.status_code == 200
            assert r.json()["status"] == "not_enrolled"
            assert r.json()["reason"] == f"the workflow acts as its owner {org.rep_east.name}, who cannot see this contact"
            drain(session)
            assert receiver.deliveries == {}
        assert session.get(Contact, org.west_contact.id).title == "Buyer"


class TestEditingAndApproval:
    def test_who_may_edit(self, api, session, org):
        wf = approved_workflow(api, org, {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]})
        url = f"/api/v1/workflows/{wf['id']}"
        assert api.patch(url, json={"name": "Mine now"}, headers=org.headers(org.rep_west)).status_code == 404
        assert api.get(url, headers=org.headers(org.rep_west)).status_code == 404
        assert api.get(url, headers=org.headers(org.manager_west)).status_code == 404
        assert api.get(url, headers=org.headers(org.rep_east_2)).status_code == 200
        r = api.patch(url, json={"name": "Mine now"}, headers=org.headers(org.rep_east_2))
        assert r.status_code == 403
        for editor in (org.rep_east, org.manager_east, org.admin):
            r = api.patch(url, json={"name": f"Edited by {editor.name}"}, headers=org.headers(editor))
            assert r.status_code == 200, r.text
        listed = api.get("/api/v1/workflows", headers=org.headers(org.rep_west)).json()
        assert wf["id"] not in [w["id"] for w in listed]

    def test_patch_cannot_drop_approval_to_put_a_new_version_live(self, api, session, org):
        wf = approved_workflow(api, org, {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]})
        url = f"/api/v1/workflows/{wf['id']}"
        evil = {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "evil"}]}
        r = api.patch(url, json={"requires_approval": False, "definition": evil}, headers=org.headers(org.rep_east))
        assert r.status_code == 403
        assert r.json()["errors"] == [
            {"field": "requires_approval", "message": "only an admin may change whether this workflow needs approval"}
        ]
        after = api.get(url, headers=org.headers(org.rep_east)).json()
        assert (after["requires_approval"], after["live_version"], after["latest_version"]) == (True, 1, 1)
        assert session.scalars(select(WorkflowVersion.number).where(WorkflowVersion.workflow_id == uuid.UUID(after["id"]))).all() == [1]

        r = api.patch(url, json={"definition": evil}, headers=org.headers(org.rep_east))
        assert r.status_code == 200
        assert (r.json()["live_version"], r.json()["latest_version"], r.json()["pending_approval"]) == (1, 2, True)
        r = api.patch(url, json={"requires_approval": True, "name": "Same setting"}, headers=org.headers(org.rep_east))
        assert r.status_code == 200
        r = api.patch(url, json={"requires_approval": False}, headers=org.headers(org.admin))
        assert r.status_code == 200 and r.json()["requires_approval"] is False

    def test_who_may_approve(self, api, session, org):
        def pending(author):
            r = api.post("/api/v1/workflows", headers=org.headers(author), json={
                "name": "Needs approval", "requires_approval": True,
                "definition": {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]},
            })
            wf = r.json()
            r = api.post(f"/api/v1/workflows/{wf['id']}/activate", headers=org.headers(author))
            assert r.json()["pending_approval"] is True, r.text
            return f"/api/v1/workflows/{wf['id']}/approve"

        rep_workflow = pending(org.rep_east)
        assert api.post(rep_workflow, headers=org.headers(org.manager_west)).status_code == 404
        assert api.post(rep_workflow, headers=org.headers(org.rep_east)).status_code == 403
        assert api.post(rep_workflow, headers=org.headers(org.rep_east_2)).status_code == 403
        assert api.post(rep_workflow, headers=org.headers(org.manager_east)).status_code == 200

        own = pending(org.manager_east)
        assert api.post(own, headers=org.headers(org.manager_east)).status_code == 403
        assert api.post(own, headers=org.headers(org.admin)).status_code == 200

    def test_the_web_form_does_not_let_a_rep_change_the_approval_setting(self, api, session, org):
        wf = approved_workflow(api, org, {"trigger": UPDATED, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]})
        web = WebClient(api)
        web.login(session.get(User, org.rep_east.id))
        page = web.get(f"/automation/{wf['id']}/edit").text
        assert 'name="requires_approval" checked disabled' in page
        other = WebClient(api)
        other.login(session.get(User, org.rep_west.id))
        assert other.get(f"/automation/{wf['id']}/edit").status_code == 404


class TestRunListsFollowVisibility:
    @pytest.fixture
    def shared(self, api, session, org):
        """A system workflow (visible to all) with a run on each team's contact."""
        wf = make_workflow(session, {"trigger": {"type": "manual", "record_type": "contact"},
                                     "steps": [{"id": "w", "type": "wait", "duration": "2d"}]}, actor=MANAGER)
        r = api.post(f"/api/v1/workflows/{wf.id}/enrollments", headers=org.headers(org.admin),
                     json={"record_ids": [str(org.east_contact.id), str(org.west_contact.id)]})
        by_record = {o["record_id"]: o["enrollment_id"] for o in r.json()}
        drain(session)
        west_run = by_record[str(org.west_contact.id)]
        r = api.post(f"/api/v1/enrollments/{west_run}/pause", json={"reason": "west only"}, headers=org.headers(org.admin))
        assert r.status_code == 200
        return wf, west_run

    def test_api_lists(self, api, session, org, shared):
        wf, west_run = shared
        east = org.headers(org.rep_east)
        base = f"/api/v1/workflows/{wf.id}"
        enrollments = api.get(f"{base}/enrollments", headers=east).json()
        assert [e["record_id"] for e in enrollments] == [str(org.east_contact.id)]
        runs = api.get(f"{base}/runs", headers=east).json()
        assert runs and {d["record_id"] for d in runs} == {str(org.east_contact.id)}
        overrides = api.get(f"{base}/overrides", headers=east).json()
        assert "west only" not in str(overrides) and west_run not in str(overrides)
        foreign, missing = str(org.west_contact.id), "01900000-0000-7000-8000-000000000000"
        for query in (f"enrollments?record_id={foreign}", f"runs?record_id={foreign}", f"runs?enrollment_id={west_run}",
                      f"enrollments?record_id={missing}"):
            assert api.get(f"{base}/{query}", headers=east).status_code == 404, query
        assert api.get(f"/api/v1/enrollments/{west_run}", headers=east).status_code == 404
        everything = api.get(f"{base}/enrollments", headers=org.headers(org.admin)).json()
        assert len(everything) == 2

    def test_workflow_page(self, api, session, org, shared):
        wf, west_run = shared
        web = WebClient(api)
        web.login(session.get(User, org.rep_east.id))
        page = web.get(f"/automation/{wf.id}").text
        assert str(org.east_contact.id) in page
        assert str(org.west_contact.id) not in page and west_run not in page and "west only" not in page
