"""Every report over HTTP on a seeded company, checked against the reference (plain Python
over the rows, tests/analytics/reference.py), as an admin and as a rep of one team."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipewise.analytics import rollups
from tests.analytics import reference as ref
from tests.analytics.seed import build_company


@pytest.fixture
def company(session, factory):  # type: ignore[no-untyped-def]
    return build_company(session, factory)


def get(api: Any, factory: Any, user: Any, slug: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/v1/reports/{slug}", params=params, headers=factory.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def table(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(t for t in body["tables"] if t["key"] == key)["rows"]


def close(a: float | None, b: float | None, tolerance: float = 1e-3) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= tolerance * max(1.0, abs(b)))


def test_deal_reports_match_the_reference(api, session, factory, company):
    for who in ("admin", "east_rep", "west_manager"):
        check_deal_reports(api, session, factory, company, company.users[who])


def check_deal_reports(api: Any, session: Any, factory: Any, company: Any, user: Any) -> None:
    rows = ref.Rows(session, user)
    since, until = ref.year_range()

    pipeline = {r["stage"]: r for r in table(get(api, factory, user, "pipeline"), "stages")}
    for stage, (count, value, weighted) in ref.pipeline_by_stage(rows, since, until).items():
        assert (pipeline[stage]["deals"], Decimal(pipeline[stage]["value"]), Decimal(pipeline[stage]["weighted_value"])) == (count, value, weighted)

    flow = {r["period"]: r for r in table(get(api, factory, user, "deal-flow"), "periods")}
    for month, counts in ref.flow(rows, since, until).items():
        assert {k: flow[month][k] for k in counts} == counts, month

    body = get(api, factory, user, "funnel")
    reached, win_rate = ref.funnel(rows, company.pipeline.id, since, until)
    assert [(r["stage"], r["deals"]) for r in table(body, "stages")] == reached
    assert close(body["headline"][1]["value"], win_rate)

    everyone = table(get(api, factory, user, "velocity"), "owners")[-1]
    expected = ref.velocity(rows, since, until)
    assert everyone["open_deals"] == expected["open_deals"]
    assert close(everyone["win_rate"], expected["win_rate"])
    assert close(float(everyone["average_won"]), float(expected["average_won"]), 1e-2)
    assert close(everyone["cycle_days"], expected["cycle_days"])
    assert close(float(everyone["velocity_per_day"]), expected["velocity_per_day"], 1e-2)

    body = get(api, factory, user, "stage-time")
    stays = {r["stage"]: r for r in table(body, "stages")}
    for stage, (median, p90, count) in ref.stage_stays(rows, since, until).items():
        assert stays[stage]["stays"] == count and close(stays[stage]["median_days"], median) and close(stays[stage]["p90_days"], p90), stage
    assert close(table(body, "cycle")[0]["median_days"], ref.won_cycle_median(rows, since, until))


def test_people_and_lead_reports_match_the_reference(api, session, factory, company):
    for who in ("admin", "west_rep"):
        check_people_reports(api, session, factory, company.users[who])


def check_people_reports(api: Any, session: Any, factory: Any, user: Any) -> None:
    rows = ref.Rows(session, user)
    since, until = ref.year_range()

    reps = {r["owner"]: r for r in table(get(api, factory, user, "activities"), "reps")}
    expected = ref.activities_per_rep(rows, since, until)
    assert set(reps) == set(expected)
    for name, counts in expected.items():
        assert {k: reps[name][k] for k in counts} == counts

    speed = {r["source"]: r for r in table(get(api, factory, user, "speed-to-lead"), "sources")}
    for source, median in ref.speed_to_lead(rows, since, until).items():
        assert close(speed[source]["median_minutes"], median), source

    revenue: dict[str, Decimal] = {}
    for row in table(get(api, factory, user, "lead-sources"), "sources"):
        revenue[row["source"]] = revenue.get(row["source"], Decimal(0)) + Decimal(row["revenue"])
    assert revenue == ref.revenue_by_source(rows, since, until)


def test_automation_reports_match_the_reference(api, session, factory, company):
    check_sequence_performance(api, session, factory, company)
    check_automation_questions(api, session, factory, company)


def check_sequence_performance(api: Any, session: Any, factory: Any, company: Any) -> None:
    """Deals count only when they followed the sequence's touches."""
    from sqlalchemy import select

    from pipewise.sequences.models import Enrollment

    admin = company.users["admin"]
    rows = ref.Rows(session, admin)
    enrollments = set(session.scalars(select(Enrollment.id).where(Enrollment.sequence_id == company.sequence_id)))
    body = get(api, factory, admin, "sequences", start="2020-01-01")
    steps = table(body, "steps")
    sent = [m for m in rows.messages if m.enrollment_id in enrollments]
    assert sum(r["sent"] for r in steps) == len(sent)
    assert sum(r["opened"] for r in steps) == sum(1 for m in sent if m.opened_at)
    assert sum(r["replied"] for r in steps) == sum(1 for m in sent if m.replied_at)
    assert sum(r["deals"] for r in steps) == len(ref.sequence_deals(rows, enrollments))
    # The sequence page's own metric agrees (the count per sequence, over every step).
    metrics = api.get(f"/api/v1/sequences/{company.sequence_id}/metrics", headers=factory.headers(admin)).json()
    assert sum(step["deals_created"] for step in metrics) == len(ref.sequence_deals(rows, enrollments))


def check_automation_questions(api: Any, session: Any, factory: Any, company: Any) -> None:
    from sqlalchemy import select

    from pipewise.automation.models import Enrollment
    from pipewise.records.models import RecordHistory

    admin = company.users["admin"]
    rows = ref.Rows(session, admin)
    body = get(api, factory, admin, "automation", start="2020-01-01")
    nurture = next(r for r in table(body, "automations") if r["automation"] == "Workflow: Nurture")
    enrollments = list(session.scalars(select(Enrollment).where(Enrollment.workflow_id == company.workflow_id)))
    assert nurture["enrolled"] == len(enrollments)
    history = list(session.scalars(select(RecordHistory).where(RecordHistory.record_type == "contact")))
    mqls, sqls = 0, 0
    hours = []
    for enrollment in enrollments:
        mine = sorted((h for h in history if h.record_id == enrollment.record_id and "lifecycle_stage" in h.changes), key=lambda h: h.at)
        before = [h.changes["lifecycle_stage"][1] for h in mine if h.at <= enrollment.enrolled_at]
        if before and before[-1] == "mql":
            mqls += 1
            sqls += any(h.changes["lifecycle_stage"][1] == "sql" for h in mine if h.at > enrollment.enrolled_at)
        calls = [a.occurred_at for a in rows.activities if a.contact_id == enrollment.record_id and a.type in ("call", "meeting")
                 and not a.automated and a.occurred_at >= enrollment.enrolled_at]
        if calls:
            hours.append((min(calls) - enrollment.enrolled_at).total_seconds() / 3600)
    assert nurture["mql_enrolled"] == mqls
    # The baseline: advances (to a later open stage, or won) of every visible deal per 30 open deal-days in the range.
    since, now = datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)
    stages = rows.stages
    advances = sum(1 for c in rows.changes if c.from_stage_id and since <= c.at and stages[c.to_stage_id].kind != "lost"
                   and (stages[c.to_stage_id].kind == "won" or stages[c.to_stage_id].position > stages[c.from_stage_id].position))
    open_days = sum(max(0.0, (min(d.closed_at or now, now) - max(d.created_at, since)).total_seconds() / 86400)
                    for d in rows.visible_deals())
    assert advances > 0 and close(body["headline"][1]["value"], advances * 30 / open_days)
    rollups.refresh(session)  # the same from the stored per-day sums
    session.commit()
    stored = get(api, factory, admin, "automation", start="2020-01-01")
    assert close(stored["headline"][1]["value"], advances * 30 / open_days)
    assert close(nurture["mql_to_sql"], sqls / mqls if mqls else None)
    assert close(nurture["first_interaction_median_hours"], ref.q(hours, 0.5))
    check_cycle_and_revenue(api, factory, admin, session, rows, enrollments, nurture)


def check_cycle_and_revenue(api: Any, factory: Any, admin: Any, session: Any, rows: Any, enrollments: list[Any], live: dict[str, Any]) -> None:
    """The sales cycle of the won deals the workflow touched against the others', and its
    share of all won revenue: live, from the stored sums, and from the histograms."""
    from sqlalchemy import select

    from pipewise.analytics import durations
    from pipewise.automation.models import Decision
    from pipewise.crm.models import Contact

    accounts = dict(session.execute(select(Contact.id, Contact.account_id)).all())
    acted = session.execute(select(Decision.enrollment_id, Decision.at).where(Decision.kind == "acted", Decision.test_mode.is_(False))).all()
    exposures = [(e.record_id, accounts.get(e.record_id), [at for i, at in acted if i == e.id]) for e in enrollments]
    touched = ref.automation_deals(rows, exposures)
    won = ref.won_deals(rows, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC))
    cycles = {d.id: (d.closed_at - d.created_at).total_seconds() / 86400 for d in won}
    others = [days for deal_id, days in cycles.items() if deal_id not in touched]
    assert others and any(deal_id in touched for deal_id in cycles)  # both sides hold deals
    all_revenue = sum((d.amount for d in won), Decimal(0))

    def nurture() -> tuple[dict[str, Any], str | None]:
        body = get(api, factory, admin, "automation", start="2020-01-01")
        return next(r for r in table(body, "automations") if r["automation"] == "Workflow: Nurture"), body["note"]

    stored, note = nurture()  # the sums were stored by the caller
    assert note is None
    for row in (live, stored):
        assert close(row["cycle_days"], ref.q([cycles[i] for i in touched if i in cycles], 0.5))
        assert close(row["baseline_cycle_days"], ref.q(others, 0.5))
        assert close(row["revenue_share"], float(Decimal(row["revenue"]) / all_revenue))
    durations.EXACT_UP_TO, exact_up_to = 0, durations.EXACT_UP_TO
    try:
        approximate, note = nurture()
    finally:
        durations.EXACT_UP_TO = exact_up_to
    assert note and close(approximate["baseline_cycle_days"], ref.q(others, 0.5), 0.05)
    assert approximate["revenue_share"] == stored["revenue_share"]


def test_a_workflows_enrollments_count_only_for_records_the_reader_may_see(api, session, factory, company):
    from sqlalchemy import select

    from pipewise.automation.models import Enrollment

    def enrolled(user: Any) -> int:
        rows = table(get(api, factory, user, "automation", start="2020-01-01"), "automations")
        return next(r["enrolled"] for r in rows if r["automation"] == "Workflow: Nurture")

    rep, admin = company.users["east_rep"], company.users["admin"]
    before = enrolled(rep), enrolled(admin)
    existing = session.scalars(select(Enrollment).where(Enrollment.workflow_id == company.workflow_id)).first()
    other_team = factory.contact(company.users["west_rep"])
    session.add(Enrollment(workflow_id=company.workflow_id, version_id=existing.version_id, record_type="contact",
                           record_id=other_team.id, enrolled_at=datetime.now(UTC)))
    session.commit()
    assert (enrolled(rep), enrolled(admin)) == (before[0], before[1] + 1)


def test_a_workflow_on_deals_reads_its_deals_with_the_enrollments(api, session, factory, company):
    """Deal enrollments take their deal from the statement that reads them: the sales cycle of
    the won deals touched, for whom may see them, and none outside the pipeline filter."""
    from datetime import timedelta

    from sqlalchemy import select

    from pipewise.automation.models import Decision, Enrollment, Workflow, WorkflowVersion
    from pipewise.deals.models import Deal

    author = company.users["east_manager"]
    workflow = Workflow(name="Deal follow-up", status="active", record_type="deal", created_by=author.id)
    session.add(workflow)
    session.flush()
    version = WorkflowVersion(workflow_id=workflow.id, number=1, definition={"steps": []}, created_by=author.id,
                              published_at=datetime.now(UTC))
    session.add(version)
    session.flush()
    # Won deals with a cycle of over two days, one of them at most per account: touched the day after creation.
    won = [d for d in ref.won_deals(ref.Rows(session), datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC))
           if d.closed_at - d.created_at > timedelta(days=2)]
    picked = list({d.account_id or d.id: d for d in won}.values())[:8]
    assert len({d.owner_id for d in picked}) > 1
    for deal in picked[:3]:  # found by no account: only as the deal enrolled
        deal.account_id = None
    for deal in picked:
        enrollment = Enrollment(workflow_id=workflow.id, version_id=version.id, record_type="deal", record_id=deal.id,
                                status="finished", enrolled_at=deal.created_at + timedelta(days=1))
        session.add(enrollment)
        session.flush()
        session.add(Decision(workflow_id=workflow.id, version_number=1, enrollment_id=enrollment.id, record_type="deal",
                             record_id=deal.id, kind="acted", step_id="remind", message="acted", at=enrollment.enrolled_at))
    session.commit()
    deals = {d.id: d for d in session.scalars(select(Deal))}

    def row(user: Any, **params: Any) -> dict[str, Any]:
        body = get(api, factory, user, "automation", start="2020-01-01", **params)
        return next(r for r in table(body, "automations") if r["automation"] == "Workflow: Deal follow-up")

    for who in ("admin", "east_rep"):
        user = company.users[who]
        rows = ref.Rows(session, user)
        mine = [d for d in picked if rows.sees(d.owner_id)]
        exposures = [(None, d.account_id, [d.created_at + timedelta(days=1)]) for d in mine]
        touched = ref.automation_deals(rows, exposures) | {d.id for d in mine}
        cycles = [(d.closed_at - d.created_at).total_seconds() / 86400 for d in ref.won_deals(rows, datetime(2020, 1, 1, tzinfo=UTC),
                                                                                               datetime.now(UTC)) if d.id in touched]
        found = row(user)
        assert (found["enrolled"], found["touched"]) == (len(mine), len(mine))
        assert close(found["cycle_days"], ref.q(cycles, 0.5)) and found["cycle_days"] is not None
        assert Decimal(found["revenue"]) <= sum((deals[i].amount for i in touched), Decimal(0))
    elsewhere, _stages = factory.pipeline("Elsewhere")
    session.commit()
    outside = row(company.users["admin"], pipeline_id=str(elsewhere.id))  # the enrollments count, their deals are not in the pipeline
    assert (outside["enrolled"], outside["cycle_days"], outside["advances_per_30_days"], outside["deals_created"]) == (len(picked), None, None, 0)


def test_a_workflows_email_counts_as_sent_and_opened_by_the_key_it_was_sent_under(api, session, factory, company):
    from sqlalchemy import select

    from pipewise.automation.engine import step_key
    from pipewise.automation.models import Decision, Enrollment
    from pipewise.mail.models import EmailMessage

    def tag_step() -> dict[str, Any]:
        rows = table(get(api, factory, company.users["admin"], "workflows", start="2020-01-01"), "steps")
        return next(r for r in rows if r["automation"] == "Workflow: Nurture" and r["step"] == "tag")

    before = tag_step()
    assert before["sent"] == 0 and before["touches"] > 1
    acted = session.scalars(select(Decision).where(Decision.workflow_id == company.workflow_id, Decision.kind == "acted")).all()
    for decision, opened in zip(acted[:2], (True, False), strict=True):
        enrollment = session.get(Enrollment, decision.enrollment_id)
        session.add(EmailMessage(message_id=f"<{decision.id}@test>", direction="outbound", kind="workflow", status="sent",
                                 contact_id=decision.record_id, from_address="rep@example.com", to_address="x@example.com",
                                 sent_at=decision.at, opened_at=decision.at if opened else None,
                                 send_key=step_key(enrollment, decision.step_id)))
    session.add(EmailMessage(message_id="<other@test>", direction="outbound", kind="workflow", status="sent", from_address="a@b.example",
                             to_address="x@example.com", send_key=f"wf:{'0' * 32}:{'0' * 32}:tag"))  # another run's key
    session.commit()
    after = tag_step()
    assert (after["touches"], after["sent"], after["opened"], after["replied"]) == (before["touches"], 2, 1, 0)
