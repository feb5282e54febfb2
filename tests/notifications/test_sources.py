"""Every "notify" of the product lands in the inbox: a task given to someone else, a lead
routed to its owner, a missed response time (to the manager), and e-mail for the kinds a
user asked for, over a real SMTP server."""

import uuid

from sqlalchemy import select

from pipewise.notifications.models import Notification
from pipewise.worker.runner import Worker
from tests.assignment.test_routing import TestSla as _Sla
from tests.sequences.support import smtp  # noqa: F401 - fixture


def _inbox(session, user):  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at)))


class TestTaskAssigned:
    def test_a_task_given_to_someone_else_tells_them_once_and_ones_own_tells_nobody(self, api, session, factory):
        team = factory.team()
        manager, rep, other = factory.user(role="manager", team=team, name="Mia Manager"), factory.user(team=team), factory.user(team=team)
        session.commit()
        r = api.post("/api/v1/tasks", json={"title": "Call Ada", "owner_id": str(rep.id)}, headers=factory.headers(manager))
        assert r.status_code == 201
        api.post("/api/v1/tasks", json={"title": "My own"}, headers=factory.headers(rep)).raise_for_status()
        (note,) = _inbox(session, rep)
        assert (note.kind, note.title, note.record_id, note.link) == (
            "task_assigned", "Mia Manager assigned you a task: Call Ada", uuid.UUID(r.json()["id"]), "/calendar")
        api.patch(f"/api/v1/tasks/{r.json()['id']}", json={"title": "Call Ada now"}, headers=factory.headers(manager)).raise_for_status()
        assert len(_inbox(session, rep)) == 1  # not reassigned: nothing new
        api.patch(f"/api/v1/tasks/{r.json()['id']}", json={"owner_id": str(other.id)}, headers=factory.headers(manager)).raise_for_status()
        assert [n.kind for n in _inbox(session, other)] == ["task_assigned"]
        assert _inbox(session, manager) == []


class TestLeadRoutingAndSla:
    def test_the_owner_hears_of_the_lead_and_the_manager_of_the_breach(self, session, factory):
        sla = _Sla()  # the routing tests' set-up: a team, a rule and a five-minute SLA
        manager, _members, lead, assignment = sla._setup(session, factory)
        first_owner = assignment.owner_id
        sla._run_due(session)
        session.refresh(lead)
        routed = session.scalars(select(Notification).where(Notification.kind == "lead_routed")).all()
        assert sorted(str(n.user_id) for n in routed) == sorted(map(str, {first_owner, lead.owner_id}))
        assert all(n.link == f"/leads/{lead.id}" and n.record_id == lead.id for n in routed)
        (breach,) = session.scalars(select(Notification).where(Notification.kind == "sla_breach")).all()
        assert breach.user_id == manager.id and breach.title.startswith("Response time missed")
        Worker().run_until_idle()  # a rerun writes nothing twice
        assert session.query(Notification).count() == 3


class TestByEmail:
    def test_only_the_kinds_a_user_chose_come_by_email_and_only_once(self, api, session, factory, smtp):  # noqa: F811
        team = factory.team()
        manager, rep, quiet = factory.user(role="manager", team=team), factory.user(team=team), factory.user(team=team)
        session.commit()
        r = api.put("/api/v1/notification-preferences", json={"email": {"task_assigned": True}}, headers=factory.headers(rep))
        assert r.status_code == 200
        for owner in (rep, quiet):
            api.post("/api/v1/tasks", json={"title": f"Call for {owner.name}", "owner_id": str(owner.id)},
                     headers=factory.headers(manager)).raise_for_status()
        Worker(name="test").run_until_idle()
        Worker(name="test").run_until_idle()
        (message,) = smtp.handler.to(rep.email)
        assert message["Subject"] == f"{manager.name} assigned you a task: Call for {rep.name}"
        assert "/notifications/" in message.get_body(("plain",)).get_content()
        assert smtp.handler.to(quiet.email) == []
