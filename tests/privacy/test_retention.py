"""Retention rules over the API: admins define them, preview them with a dry-run that
deletes nothing, run them now or let the worker's daily timer run them; records go
through their services (history, audit) with the rights of the admin who saved the rule."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pipewise.audit.models import AuditEntry
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Activity, Contact
from pipewise.db.base import utcnow
from pipewise.deals.service import deal_service
from pipewise.events.models import ScheduledAction
from pipewise.leads.models import Lead
from pipewise.privacy import retention
from pipewise.privacy.models import RetentionRule
from pipewise.records.models import RecordHistory
from tests.sequences.support import run_worker

RULES = "/api/v1/privacy/retention-rules"


def aged(session, model, record, *, months: int, column: str = "created_at") -> None:  # type: ignore[no-untyped-def]
    """Make ``record`` look ``months`` months old (plus a day)."""
    moment = retention.months_before(utcnow(), months) - timedelta(days=1)
    session.execute(update(model).where(model.id == record.id).values({column: moment}))


def ids(session, model) -> set:  # type: ignore[no-untyped-def,type-arg]
    session.commit()
    session.expire_all()
    return set(session.scalars(select(model.id)))


@pytest.fixture
def admin(factory):  # type: ignore[no-untyped-def]
    return factory.user(role="admin", name="Ada Admin")


@pytest.fixture
def old_leads(session, factory):  # type: ignore[no-untyped-def]
    """Two old unconverted leads, an old converted one and a new one."""
    old = [factory.lead(None, last_name=f"Old {n}", company=f"Old Co {n}") for n in (1, 2)]
    converted, new = factory.lead(None, last_name="Converted"), factory.lead(None, last_name="New")
    for lead in (*old, converted):
        aged(session, Lead, lead, months=13)
    session.execute(update(Lead).where(Lead.id == converted.id).values(status="converted", converted_at=utcnow()))
    session.commit()
    return old, converted, new


def create(api, headers, **body):  # type: ignore[no-untyped-def]
    response = api.post(RULES, headers=headers, json={"name": "Old leads", "kind": "unconverted_leads", "months": 12,
                                                      "enabled": False, **body})
    assert response.status_code == 201, response.text
    return response.json()


class TestRules:
    def test_admins_manage_rules_and_every_change_is_audited(self, session, factory, api, admin):
        headers = factory.headers(admin)
        rule = create(api, headers)
        changed = api.patch(f"{RULES}/{rule['id']}", headers=headers, json={"months": 18, "enabled": True})
        assert (changed.json()["months"], changed.json()["enabled"]) == (18, True)
        assert [r["name"] for r in api.get(RULES, headers=headers).json()] == ["Old leads"]
        assert api.delete(f"{RULES}/{rule['id']}", headers=headers).status_code == 204
        assert api.get(RULES, headers=headers).json() == []
        session.expire_all()
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.startswith("retention"))
                                       .order_by(AuditEntry.id)))
        assert actions == ["retention_rule.created", "retention_rule.updated", "retention_rule.deleted"]

    @pytest.mark.parametrize("role", ["rep", "manager"])
    def test_nobody_else_may(self, session, factory, api, role):
        person = factory.user(role=role)
        session.commit()
        assert api.get(RULES, headers=factory.headers(person)).status_code == 403
        assert api.post(RULES, headers=factory.headers(person),
                        json={"name": "x", "kind": "old_activities", "months": 12}).status_code == 403

    @pytest.mark.parametrize(("body", "field"), [
        ({"name": "", "kind": "old_activities", "months": 12}, "name"),
        ({"name": "x", "kind": "everything", "months": 12}, "kind"),
        ({"name": "x", "kind": "old_activities", "months": 0}, "months"),
        ({"name": "x", "kind": "old_activities", "months": 9999}, "months"),
        ({"name": "x", "kind": "old_activities", "months": "soon"}, "months"),
        ({"name": "x", "kind": "old_activities"}, "months"),
    ])
    def test_bad_rules_are_refused_field_by_field(self, session, factory, api, admin, body, field):
        response = api.post(RULES, headers=factory.headers(admin), json=body)
        assert response.status_code == 422, response.text
        assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}
        assert session.scalar(select(func.count()).select_from(RetentionRule)) == 0


class TestDryRunAndRun:
    def test_the_dry_run_names_what_would_go_and_deletes_nothing(self, session, factory, api, admin, old_leads):
        old, _converted, _new = old_leads
        rule = create(api, factory.headers(admin))
        before = ids(session, Lead)
        preview = api.post(f"{RULES}/{rule['id']}/dry-run", headers=factory.headers(admin)).json()
        assert preview["count"] == 2
        assert {item["label"] for item in preview["sample"]} == {"Lee Old 1 (Old Co 1)", "Lee Old 2 (Old Co 2)"}
        assert ids(session, Lead) == before

    def test_running_deletes_through_the_service_as_the_rules_author(self, session, factory, api, admin, old_leads):
        old, converted, new = old_leads
        old_ids = {lead.id for lead in old}
        rule = create(api, factory.headers(admin))
        run = api.post(f"{RULES}/{rule['id']}/run", headers=factory.headers(admin)).json()
        assert run["deleted"] == 2 and set(run["record_ids"]) == {str(i) for i in old_ids}
        assert ids(session, Lead) == {converted.id, new.id}
        history = list(session.scalars(select(RecordHistory).where(RecordHistory.action == "deleted")))
        assert {(h.record_id, h.actor_id) for h in history} == {(i, admin.id) for i in old_ids}
        audited = {e.action: e for e in session.scalars(select(AuditEntry).where(AuditEntry.actor_id == admin.id))}
        assert audited["retention.ran"].details["deleted"] == 2
        assert "lead.deleted" in audited
        [listed] = api.get(f"{RULES}/{rule['id']}/runs", headers=factory.headers(admin)).json()
        assert listed["deleted"] == 2

    def test_old_activities_go_and_recent_ones_stay(self, session, factory, api, admin):
        contact = factory.contact(None)
        old = factory.activity(None, subject="Long ago", type="note", contact_id=contact.id)
        recent = factory.activity(None, subject="Yesterday", type="note", contact_id=contact.id)
        aged(session, Activity, old, months=25, column="occurred_at")
        session.commit()
        rule = create(api, factory.headers(admin), kind="old_activities", months=24)
        assert api.post(f"{RULES}/{rule['id']}/run", headers=factory.headers(admin)).json()["deleted"] == 1
        assert ids(session, Activity) == {recent.id}

    def test_idle_contacts_without_deals_go(self, session, factory, api, admin):
        idle, busy, on_deal = (factory.contact(None, last_name=n) for n in ("Idle", "Busy", "Buyer"))
        factory.activity(None, subject="Recent call", type="call", contact_id=busy.id)
        _pipeline, stages = factory.pipeline()
        deal = factory.deal(None, name="Deal", stage_id=stages[0].id)
        deal_service.add_contact(session, deal.id, on_deal.id, role=None, actor=SYSTEM_ACTOR)
        for contact in (idle, busy, on_deal):
            aged(session, Contact, contact, months=7)
        session.commit()
        rule = create(api, factory.headers(admin), kind="idle_contacts", months=6)
        preview = api.post(f"{RULES}/{rule['id']}/dry-run", headers=factory.headers(admin)).json()
        assert [item["id"] for item in preview["sample"]] == [str(idle.id)]
        api.post(f"{RULES}/{rule['id']}/run", headers=factory.headers(admin))
        assert ids(session, Contact) == {busy.id, on_deal.id}

    def test_a_rule_whose_author_is_no_longer_admin_deletes_nothing_and_says_why(self, session, factory, api, admin,
                                                                                 old_leads):
        rule = create(api, factory.headers(admin))
        before = ids(session, Lead)
        session.get(type(admin), admin.id).role = "rep"
        session.commit()
        other_admin = factory.user(role="admin")
        session.commit()
        run = api.post(f"{RULES}/{rule['id']}/run", headers=factory.headers(other_admin)).json()
        assert run["deleted"] == 0 and "no longer an active admin" in run["error"]
        assert ids(session, Lead) == before


class TestTheDailyTimer:
    def test_enabled_rules_run_each_day_in_the_worker(self, session, factory, api, admin, old_leads, clock):
        everyone = {lead.id for lead in (*old_leads[0], old_leads[1], old_leads[2])}
        converted, new = old_leads[1].id, old_leads[2].id
        create(api, factory.headers(admin), enabled=True)
        assert ids(session, Lead) == everyone  # nothing ran yet
        [timer] = session.scalars(select(ScheduledAction).where(ScheduledAction.kind == retention.TIMER))
        assert (timer.run_at.hour, timer.run_at.minute) == (retention.RUN_HOUR, retention.RUN_MINUTE)

        ran_at = clock.advance(days=1, hours=1)
        run_worker()
        assert ids(session, Lead) == {converted, new}
        pending = list(session.scalars(select(ScheduledAction.run_at).where(
            ScheduledAction.kind == retention.TIMER, ScheduledAction.status == "pending")))
        # The next daily run after the one that ran (two days after the first when the test
        # starts in the hour before the run time: the clock moved past the next day's).
        assert pending == [retention.next_run_at(ran_at)] and pending[0] > timer.run_at
        assert session.scalars(select(AuditEntry.channel).where(AuditEntry.action == "retention.ran")).one() == "worker"
