from datetime import timedelta

from sqlalchemy import distinct, func, select

from pipewise.auth.models import Team, User
from pipewise.crm.models import Account, Activity, Contact, Task
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal, DealContact, DealStageChange, Stage
from pipewise.demo.config import demo_password
from pipewise.demo.loader import DemoLoader, DemoSize
from pipewise.events.models import OutboxEvent
from pipewise.leads.models import Lead
from pipewise.people.service import user_service
from pipewise.records.models import RecordHistory


def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where))


class TestDemoLoader:
    def test_loads_a_small_organisation_through_the_services(self, session):  # type: ignore[no-untyped-def]
        phases: dict[str, tuple[int, int]] = {}
        DemoLoader(DemoSize(accounts=40), on_progress=lambda p, d, t: phases.__setitem__(p, (d, t))).run()

        assert all(done == total for done, total in phases.values())
        assert {"Accounts", "Contacts", "Deals", "Leads"} <= set(phases)
        assert count(session, Account) >= 40
        assert count(session, Contact) >= 100
        assert count(session, Lead) >= 10
        assert count(session, Team) == 3
        managers = session.scalars(select(User).where(User.role == "manager")).all()
        assert len(managers) == 3
        assert user_service.authenticate(session, email=managers[0].email, password=demo_password()) is not None

    def test_deals_cover_the_pipeline_with_history_and_events(self, session):  # type: ignore[no-untyped-def]
        DemoLoader(DemoSize(accounts=60)).run()
        now = utcnow()
        deals = session.scalars(select(Deal)).all()
        kinds = {session.get(Stage, d.stage_id).kind for d in deals}
        assert kinds == {"open", "won", "lost"}
        assert session.scalar(select(func.count(distinct(Deal.stage_id)))) >= 4
        # Deals from converted leads start without a close date, as a rep would leave them.
        from_leads = set(session.scalars(select(Lead.converted_deal_id).where(Lead.converted_deal_id.isnot(None))))
        for deal in deals:
            stage = session.get(Stage, deal.stage_id)
            if deal.id in from_leads:
                continue
            if stage.kind == "open":
                assert deal.closed_at is None
                assert deal.close_date >= now.date()
            else:
                assert deal.closed_at <= now
                assert deal.close_date == deal.closed_at.date()
            if stage.kind == "lost":
                assert deal.lost_reason
            if stage.kind == "won":
                assert deal.amount is not None
        # Moves went through the deal service: stage history, field history and events.
        assert count(session, DealStageChange) > len(deals)
        assert count(session, RecordHistory, RecordHistory.record_type == "deal", RecordHistory.action == "updated") > 0
        assert count(session, OutboxEvent, OutboxEvent.name == "deal.stage_changed") == count(
            session, DealStageChange, DealStageChange.from_stage_id.isnot(None)
        )
        assert count(session, DealContact) >= len(deals)

    def test_history_spreads_over_the_last_year(self, session):  # type: ignore[no-untyped-def]
        DemoLoader(DemoSize(accounts=60)).run()
        now = utcnow()
        oldest_deal = session.scalar(select(func.min(Deal.created_at)))
        assert now - timedelta(days=400) < oldest_deal < now - timedelta(days=150)
        oldest_move = session.scalar(select(func.min(DealStageChange.at)).where(DealStageChange.from_stage_id.isnot(None)))
        assert oldest_move < now - timedelta(days=90)
        assert session.scalar(select(func.min(Activity.occurred_at))) < now - timedelta(days=90)
        assert session.scalar(select(func.max(Activity.occurred_at))) <= now
        assert {t for (t,) in session.execute(select(Activity.type).distinct())} == {"call", "email", "meeting", "note"}
        assert count(session, Task, Task.status == "open") > 0
        assert count(session, Task, Task.status == "done", Task.completed_at.isnot(None)) > 0


def test_a_year_of_automation_shows_in_its_reports_and_nothing_is_left_running(session, api, factory):  # type: ignore[no-untyped-def]
    from pipewise.automation.models import Enrollment as WorkflowEnrollment
    from pipewise.automation.models import Workflow
    from pipewise.mail.models import EmailMessage
    from pipewise.sequences.models import Enrollment, Sequence
    from pipewise.worker.runner import Worker

    DemoLoader(DemoSize(accounts=60)).run()
    now = utcnow()
    assert count(session, Sequence, Sequence.status == "active") == 1
    assert count(session, Enrollment) > 10 and count(session, Enrollment, Enrollment.status.in_(("active", "paused"))) == 0
    assert count(session, EmailMessage, EmailMessage.direction == "inbound", EmailMessage.kind == "reply") > 0
    assert session.scalar(select(func.max(EmailMessage.sent_at))) < now
    assert session.scalars(select(Workflow.status)).all() == ["paused"]
    enrolled = count(session, WorkflowEnrollment)
    assert enrolled > 10 and count(session, WorkflowEnrollment, WorkflowEnrollment.status != "finished") == 0
    session.commit()
    Worker(name="test").run_until_idle()  # the demo's own events enroll nobody more
    session.expire_all()
    assert count(session, WorkflowEnrollment) == enrolled

    admin = factory.user(role="admin")
    session.commit()
    body = api.get("/api/v1/reports/automation", params={"start": "2020-01-01"}, headers=factory.headers(admin)).json()
    rows = {r["automation"]: r for r in next(t for t in body["tables"] if t["key"] == "automations")["rows"]}
    sequence, workflow = rows["Sequence: Re-engage quiet contacts"], rows["Workflow: Nurture new contacts"]
    assert sequence["enrolled"] == count(session, Enrollment) and workflow["enrolled"] == enrolled
    assert sequence["reached_interaction"] > 0 and sequence["first_interaction_median_hours"] is not None
