from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from pipewise.assignment import service as routing
from pipewise.assignment.hours import add_working_minutes
from pipewise.assignment.models import LeadAssignment, RoutingPolicy
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.errors import PermissionDenied, ValidationFailed
from pipewise.events.models import OutboxEvent, ScheduledAction
from pipewise.leads.routing import assign
from pipewise.records.timeline import timeline
from pipewise.worker.runner import Worker


def rule(session, **kw):
    return routing.create_rule(session, {"name": kw.pop("name", "Rule"), **kw}, actor=SYSTEM_ACTOR)


class TestRuleKinds:
    def test_first_matching_rule_wins_and_shows_on_the_timeline(self, session, factory):
        german, anyone = factory.user(name="Greta"), factory.user(name="Ann")
        rule(session, name="DACH", conditions={"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}, target_type="user", user_id=german.id)
        rule(session, name="Rest", target_type="user", user_id=anyone.id)
        de = factory.lead(country="DE", owner_id=None)
        us = factory.lead(country="US", owner_id=None)
        assert assign(session, de).owner_id == german.id
        assert assign(session, us).owner_id == anyone.id
        session.flush()
        entry = next(e for e in timeline(session, "lead", de.id) if e.kind == "assignment")
        assert entry.title == "Assigned to Greta by rule “DACH”"

    def test_related_fields_in_conditions(self, session, factory):
        rep = factory.user()
        account = factory.account(industry="Banking")
        rule(session, name="Banks", conditions={"field": "account.industry", "op": "eq", "value": "Banking"}, target_type="user", user_id=rep.id, prefer_account_owner=False)
        assert assign(session, factory.lead(account_id=account.id, owner_id=None)).owner_id == rep.id
        assert assign(session, factory.lead(owner_id=None)) is None

    def test_queue(self, session, factory):
        rule(session, name="Partners", target_type="queue", queue="partners")
        lead = factory.lead(owner_id=None)
        assignment = assign(session, lead)
        assert (lead.owner_id, lead.queue, assignment.queue) == (None, "partners", "partners")

    def test_account_owner_first(self, session, factory):
        owner, rep = factory.user(), factory.user()
        account = factory.account(owner=owner, domain="initech.example")
        rule(session, name="All", target_type="user", user_id=rep.id)
        lead = factory.lead(email="bill@initech.example", owner_id=None)
        assignment = assign(session, lead)
        assert lead.account_id == account.id and lead.owner_id == owner.id
        assert assignment.reason.startswith("owner of the account")

    def test_away_user_falls_through_to_next_rule(self, session, factory):
        away, backup = factory.user(is_away=True), factory.user()
        rule(session, name="Away", target_type="user", user_id=away.id)
        rule(session, name="Backup", target_type="user", user_id=backup.id)
        assert assign(session, factory.lead(owner_id=None)).owner_id == backup.id


class TestRoundRobin:
    def test_weighted_by_capacity_and_skips_people_who_are_away(self, session, factory):
        team = factory.team()
        big = factory.user(team=team, capacity=100)
        small = factory.user(team=team, capacity=50)
        away = factory.user(team=team, capacity=100, is_away=True)
        rule(session, name="Team", target_type="team", team_id=team.id)
        owners = Counter(assign(session, factory.lead(owner_id=None)).owner_id for _ in range(30))
        assert owners == {big.id: 20, small.id: 10}
        assert away.id not in owners

    def test_nobody_available_falls_through(self, session, factory):
        team = factory.team()
        factory.user(team=team, is_away=True)
        rule(session, name="Team", target_type="team", team_id=team.id)
        rule(session, name="Overflow", target_type="queue", queue="overflow")
        assert assign(session, factory.lead(owner_id=None)).queue == "overflow"

    def test_newcomer_starts_level(self, session, factory):
        team = factory.team()
        first = factory.user(team=team)
        rule(session, name="Team", target_type="team", team_id=team.id)
        for _ in range(10):
            assign(session, factory.lead(owner_id=None))
        newcomer = factory.user(team=team)
        owners = Counter(assign(session, factory.lead(owner_id=None)).owner_id for _ in range(10))
        assert owners == {first.id: 5, newcomer.id: 5}


class TestSetup:
    def test_rules_are_validated(self, session, factory):
        with pytest.raises(ValidationFailed) as exc:
            routing.create_rule(session, {"name": "", "target_type": "team", "conditions": {"field": "nope"}}, actor=SYSTEM_ACTOR)
        fields = {e.field for e in exc.value.errors}
        assert {"name", "team_id"} <= fields and any(f.startswith("conditions") for f in fields)

    def test_reps_may_not_change_routing(self, session, factory):
        with pytest.raises(PermissionDenied):
            routing.create_rule(session, {"name": "x", "target_type": "queue", "queue": "q"}, actor=factory.actor(factory.user()))


class TestWorkingHours:
    def test_sla_clock_runs_in_working_hours_only(self):
        policy = RoutingPolicy(work_start="09:00", work_end="17:00", workdays=[0, 1, 2, 3, 4], timezone="Europe/Berlin")
        friday_late = datetime(2026, 3, 6, 15, 50, tzinfo=UTC)  # 16:50 in Berlin
        assert add_working_minutes(friday_late, 30, policy) == datetime(2026, 3, 9, 8, 20, tzinfo=UTC)
        tuesday_morning = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
        assert add_working_minutes(tuesday_morning, 15, policy) == datetime(2026, 3, 10, 8, 15, tzinfo=UTC)


class TestSla:
    def _setup(self, session, factory):
        team = factory.team()
        manager = factory.user(role="manager", team=team)
        team.manager_id = manager.id
        first, second = factory.user(team=team, name="First"), factory.user(team=team, name="Second")
        session.execute(update(RoutingPolicy).values(sla_minutes=5))
        routing.policy(session).sla_minutes = 5
        routing.policy(session).workdays = [0, 1, 2, 3, 4, 5, 6]
        routing.policy(session).work_start, routing.policy(session).work_end = "00:00", "23:59"
        rule(session, name="Team", target_type="team", team_id=team.id)
        lead = factory.lead(owner_id=None)
        assignment = assign(session, lead)
        session.commit()
        return manager, {first.id, second.id}, lead, assignment

    def _run_due(self, session):
        session.execute(update(ScheduledAction).values(run_at=datetime(2000, 1, 1, tzinfo=UTC)))
        session.commit()
        Worker().run_until_idle()
        session.expire_all()

    def test_breach_reassigns_and_tells_the_manager(self, session, factory):
        manager, members, lead, assignment = self._setup(session, factory)
        first_owner = assignment.owner_id
        assert assignment.sla_due_at is not None
        self._run_due(session)
        session.refresh(lead)
        assert lead.owner_id in members - {first_owner}
        statuses = [a.status for a in session.scalars(select(LeadAssignment).order_by(LeadAssignment.id))]
        assert statuses == ["breached", "active"]
        task = session.scalar(select(Task).where(Task.owner_id == manager.id))
        assert task.title.startswith("Response time missed") and task.priority == "high"
        breach = session.scalar(select(OutboxEvent).where(OutboxEvent.name == "lead.sla_breached"))
        assert breach.payload["data"]["reassigned_to"] == str(lead.owner_id)
        assert any(e.kind == "sla" for e in timeline(session, "lead", lead.id))

    def test_a_lead_routed_by_the_worker_keeps_its_assignment_and_its_clock(self, session, factory):
        # The worker writes the assignment with its batch's other rows, not through the ORM.
        manager, members, _lead, _assignment = self._setup(session, factory)
        lead = factory.lead(manager, last_name="Hopper", owner_id=None)  # made by a person: routed by the worker
        session.commit()
        Worker().run_until_idle()
        session.expire_all()
        routed = session.scalar(select(LeadAssignment).where(LeadAssignment.lead_id == lead.id))
        assert routed.owner_id in members and routed.owner_id == session.get(type(lead), lead.id).owner_id
        assert (routed.rule_name, routed.status, routed.queue) == ("Team", "active", None)
        assert routed.reason.endswith("(created)") and routed.sla_due_at is not None
        timer = session.scalar(select(ScheduledAction).where(ScheduledAction.key.contains(str(lead.id))))
        assert routing.timed(session, timer.payload).id == routed.id
        self._run_due(session)
        assert session.get(LeadAssignment, routed.id).status == "breached"
        assert session.get(type(lead), lead.id).owner_id in members - {routed.owner_id}

    def test_the_timer_names_the_assignment_by_lead_and_moment(self, session, factory):
        _manager, _members, lead, assignment = self._setup(session, factory)
        timer = session.scalar(select(ScheduledAction).where(ScheduledAction.kind == "lead.sla_check"))
        assert timer.payload == {"lead_id": str(lead.id), "assigned_at": assignment.assigned_at.isoformat()}
        assert routing.timed(session, timer.payload).id == assignment.id

    def test_a_timer_that_names_the_assignment_id_still_fires(self, session, factory):
        _manager, members, lead, assignment = self._setup(session, factory)
        first_owner = assignment.owner_id
        session.execute(update(ScheduledAction).values(payload={"assignment_id": assignment.id}))
        self._run_due(session)
        session.refresh(lead)
        assert lead.owner_id in members - {first_owner}
        assert session.get(LeadAssignment, assignment.id).status == "breached"

    def test_first_touch_in_time_stops_the_clock(self, session, factory):
        _manager, _members, lead, assignment = self._setup(session, factory)
        factory.activity(lead_id=lead.id, type="call", subject="Called")
        session.commit()
        self._run_due(session)
        session.refresh(lead)
        assert lead.owner_id == assignment.owner_id and lead.first_touched_at is not None
        assert session.scalar(select(LeadAssignment.status)) == "touched"
        assert session.scalar(select(OutboxEvent).where(OutboxEvent.name == "lead.sla_breached")) is None
