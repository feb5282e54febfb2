"""The per-day sums the deal and activity reports read (analytics/rollups.py,
analytics/activity_sums.py). Whatever the write, a report shows it at once (the days it
changed are computed from the records), the stored sums give the same report as the
records themselves, and the worker stores the changed days again."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, func, select, text, update

from pipewise.analytics import durations, rollups
from pipewise.analytics.handlers import REFRESH_ACTION
from pipewise.analytics.models import ReportDealDay, ReportStaleDay
from pipewise.db.base import utcnow
from pipewise.db.migrate import alembic_config
from pipewise.leads.models import Lead
from pipewise.deals.models import Deal, Stage
from pipewise.events.models import ScheduledAction
from pipewise.worker.runner import Worker
from tests.analytics.seed import SOURCES, build_company
from tests.conftest import IS_POSTGRES

DEAL_SLUGS = ("pipeline", "deal-flow", "funnel", "velocity", "stage-time")
# Each kind of write is checked on the reports it feeds (the deal writes that move activities
# and leads to other rows are in their tests); the other tests check all of them.
SLUGS = (*DEAL_SLUGS, "activities", "lead-sources")


@pytest.fixture
def company(session, factory):  # type: ignore[no-untyped-def]
    built = build_company(session, factory, deals=24)
    rollups.refresh(session)
    session.commit()
    return built


def reports(api: Any, factory: Any, user: Any, slugs: tuple[str, ...] = SLUGS, **params: Any) -> dict[str, Any]:
    bodies = {}
    for slug in slugs:
        response = api.get(f"/api/v1/reports/{slug}", params=params, headers=factory.headers(user))
        assert response.status_code == 200, response.text
        bodies[slug] = response.json()
    return bodies


def from_the_deals(api: Any, session: Any, factory: Any, user: Any, slugs: tuple[str, ...] = SLUGS, **params: Any) -> dict[str, Any]:
    """The reports with every day computed from the deals (the note "every day" set)."""
    note = ReportStaleDay(day=None)
    session.add(note)
    session.commit()
    bodies = reports(api, factory, user, slugs, **params)
    session.execute(delete(ReportStaleDay).where(ReportStaleDay.id == note.id))
    session.commit()
    return bodies


def views(company: Any) -> list[tuple[Any, dict[str, Any]]]:
    admin, rep = company.users["admin"], company.users["east_rep"]
    return [(admin, {}), (rep, {}), (admin, {"team_id": str(company.teams["West"].id)}), (admin, {"source": SOURCES[0]}),
            (admin, {"interval": "week", "pipeline_id": str(company.pipeline.id)})]


def assert_reports_exact(api: Any, session: Any, factory: Any, company: Any, slugs: tuple[str, ...] = SLUGS) -> None:
    """As the records stand now: with the changed days read from the records, then stored."""
    for user, params in views(company):
        truth = from_the_deals(api, session, factory, user, slugs, **params)
        assert reports(api, factory, user, slugs, **params) == truth, (user.name, params)
    assert rollups.refresh(session) > 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReportStaleDay)) == 0
    for user, params in views(company):
        stored = reports(api, factory, user, slugs, **params)
        assert stored == from_the_deals(api, session, factory, user, slugs, **params), (user.name, params)


def test_stored_sums_give_the_reports_of_the_deals(api, session, factory, company):
    assert session.scalar(select(func.count()).select_from(ReportDealDay)) > 0
    assert session.scalar(select(func.count()).select_from(ReportStaleDay)) == 0
    for user, params in views(company):
        assert reports(api, factory, user, **params) == from_the_deals(api, session, factory, user, **params), (user.name, params)


def test_every_kind_of_write_shows_at_once_and_after_the_refresh(api, session, factory, company):
    admin, east_rep, west_rep = company.users["admin"], company.users["east_rep"], company.users["west_rep"]
    headers = factory.headers(admin)
    stages = company.stages
    before = reports(api, factory, admin)

    created = api.post("/api/v1/deals", json={"name": "Fresh", "stage_id": str(stages[0].id), "amount": "1234.50",
                                              "owner_id": str(east_rep.id)}, headers=headers)
    assert created.status_code == 201, created.text
    deal_id = created.json()["id"]
    after = reports(api, factory, admin)
    assert after != before and after["pipeline"]["headline"][0]["value"] == before["pipeline"]["headline"][0]["value"] + 1
    assert_reports_exact(api, session, factory, company, DEAL_SLUGS)

    writes = [
        lambda: api.patch(f"/api/v1/deals/{deal_id}", json={"amount": "99000"}, headers=headers),
        lambda: api.patch(f"/api/v1/deals/{deal_id}", json={"close_date": "2026-01-05"}, headers=headers),  # now past due
        lambda: api.post(f"/api/v1/deals/{deal_id}/move", json={"stage_id": str(stages[2].id)}, headers=headers),
        lambda: api.patch(f"/api/v1/deals/{deal_id}", json={"owner_id": str(west_rep.id)}, headers=headers),
        lambda: api.post(f"/api/v1/deals/{deal_id}/move", json={"stage_id": str(stages[4].id)}, headers=headers),
        lambda: api.delete(f"/api/v1/deals/{deal_id}", headers=headers),
    ]
    for write in writes:
        response = write()
        assert response.status_code in (200, 204), response.text
        assert_reports_exact(api, session, factory, company, DEAL_SLUGS)


def test_every_kind_of_activity_write_shows_at_once_and_after_the_refresh(api, session, factory, company):
    admin, east_rep, west_rep = company.users["admin"], company.users["east_rep"], company.users["west_rep"]
    headers = factory.headers(admin)
    deal_id = str(session.scalar(select(Deal.id).where(Deal.closed_at.is_(None)).order_by(Deal.created_at).limit(1)))
    other_deal_id = str(session.scalar(select(Deal.id).where(Deal.closed_at.is_not(None)).order_by(Deal.created_at).limit(1)))
    new_owner = east_rep if session.scalar(select(Deal.owner_id).where(Deal.id == uuid.UUID(deal_id))) == west_rep.id else west_rep
    session.commit()
    before = reports(api, factory, admin)["activities"]
    logged = api.post("/api/v1/activities", json={"type": "call", "subject": "Discovery call", "deal_id": deal_id,
                                                   "owner_id": str(east_rep.id)}, headers=headers)
    assert logged.status_code == 201, logged.text
    activity_id = logged.json()["id"]
    after = reports(api, factory, admin)["activities"]
    assert after["headline"][0]["value"] == before["headline"][0]["value"] + 1
    assert_reports_exact(api, session, factory, company, ("activities",))

    a_month_ago = (utcnow() - timedelta(days=31)).isoformat()
    writes = [
        lambda: api.patch(f"/api/v1/activities/{activity_id}", json={"occurred_at": a_month_ago}, headers=headers),
        lambda: api.patch(f"/api/v1/activities/{activity_id}", json={"type": "meeting", "owner_id": str(west_rep.id)},
                          headers=headers),
        lambda: api.patch(f"/api/v1/activities/{activity_id}", json={"deal_id": other_deal_id}, headers=headers),
        lambda: api.patch(f"/api/v1/activities/{activity_id}", json={"deal_id": deal_id}, headers=headers),
        # The deal's outcome and owner move every one of its activities to other rows.
        lambda: api.post(f"/api/v1/deals/{deal_id}/move", json={"stage_id": str(company.stages[4].id)}, headers=headers),
        lambda: api.patch(f"/api/v1/deals/{deal_id}", json={"owner_id": str(new_owner.id)}, headers=headers),
        lambda: api.delete(f"/api/v1/activities/{activity_id}", headers=headers),
        lambda: api.delete(f"/api/v1/deals/{deal_id}", headers=headers),  # its other activities go with it
    ]
    for write in writes:
        response = write()
        assert response.status_code in (200, 204), response.text
        assert_reports_exact(api, session, factory, company, ("activities",))
    assert reports(api, factory, admin)["activities"] != before


def test_every_kind_of_lead_write_shows_at_once_and_after_the_refresh(api, session, factory, company):
    admin, east_rep, west_rep = company.users["admin"], company.users["east_rep"], company.users["west_rep"]
    headers = factory.headers(admin)
    before = reports(api, factory, admin)["lead-sources"]
    created = api.post("/api/v1/leads", json={"last_name": "Fresh", "company": "Fresh Ltd", "email": "fresh@lead-sums.example",
                                              "source": SOURCES[1],
                                              "owner_id": str(east_rep.id),
                                              "attribution": {"utm_source": "newsletter", "utm_campaign": "winter"}},
                       headers=headers)
    assert created.status_code == 201, created.text
    lead_id = created.json()["id"]
    assert reports(api, factory, admin)["lead-sources"]["headline"][0]["value"] == before["headline"][0]["value"] + 1
    assert_reports_exact(api, session, factory, company, ("lead-sources",))
    # Created weeks before its deal: the deal's changes count on the lead's day, not the deal's.
    session.execute(update(Lead).where(Lead.id == uuid.UUID(lead_id)).values(created_at=utcnow() - timedelta(days=40)))
    session.commit()
    assert_reports_exact(api, session, factory, company, ("lead-sources",))

    def deal_id() -> str:
        return api.get(f"/api/v1/leads/{lead_id}", headers=headers).json()["converted_deal_id"]

    writes = [
        lambda: api.patch(f"/api/v1/leads/{lead_id}", json={"source": SOURCES[2], "owner_id": str(west_rep.id)}, headers=headers),
        lambda: api.post(f"/api/v1/leads/{lead_id}/convert", json={"deal_name": "From lead sums", "amount": "7000"},
                         headers=headers),
        lambda: api.patch(f"/api/v1/deals/{deal_id()}", json={"amount": "8000"}, headers=headers),
        lambda: api.post(f"/api/v1/deals/{deal_id()}/move", json={"stage_id": str(company.stages[4].id)}, headers=headers),
        lambda: api.patch(f"/api/v1/deals/{deal_id()}", json={"owner_id": str(east_rep.id)}, headers=headers),
        lambda: api.delete(f"/api/v1/deals/{deal_id()}", headers=headers),  # the lead stays, converted into nothing now
        lambda: api.delete(f"/api/v1/leads/{lead_id}", headers=headers),
    ]
    for write in writes:
        response = write()
        assert response.status_code in (200, 204), response.text
        assert_reports_exact(api, session, factory, company, ("lead-sources",))


def test_lead_conversion_and_its_source_show_in_the_source_filter(api, session, factory, company):
    admin = company.users["admin"]
    lead = factory.lead(admin, source=SOURCES[0])
    session.commit()
    converted = api.post(f"/api/v1/leads/{lead.id}/convert", json={"deal_name": "From a lead", "amount": "5000"},
                         headers=factory.headers(admin))
    assert converted.status_code == 200, converted.text
    assert_reports_exact(api, session, factory, company)
    edited = api.patch(f"/api/v1/leads/{lead.id}", json={"source": SOURCES[1]}, headers=factory.headers(admin))
    assert edited.status_code == 200, edited.text  # the source the deal came from, corrected
    assert_reports_exact(api, session, factory, company)


def test_a_stage_that_moves_changes_every_day(api, session, factory, company):
    first, second = company.stages[1], company.stages[2]
    session.get(Stage, first.id).position, session.get(Stage, second.id).position = 99, first.position
    session.flush()
    session.get(Stage, first.id).position = second.position + 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReportStaleDay).where(ReportStaleDay.day.is_(None))) >= 1
    assert_reports_exact(api, session, factory, company)


def test_the_worker_stores_the_changed_days_within_a_minute(api, session, factory, company):
    admin = company.users["admin"]
    deal = factory.deal(admin, name="Late deal", stage_id=company.stages[0].id, amount=Decimal("10"))
    session.commit()
    changed = session.scalar(select(func.count()).select_from(ReportStaleDay))
    assert changed >= 1
    Worker().run_until_idle()
    session.commit()  # a new snapshot, after the worker's
    # One timer per minute the changes were handled in (two when the worker's run crossed a minute), each at most a
    # minute away; the worker may even have run one already, on a busy machine.
    timers = session.scalars(select(ScheduledAction).where(ScheduledAction.kind == REFRESH_ACTION)).all()
    assert 1 <= len(timers) <= 2 and all(t.run_at <= utcnow() + timedelta(minutes=1) for t in timers)
    # A minute later (the timers made due now):
    session.execute(update(ScheduledAction).where(ScheduledAction.kind == REFRESH_ACTION, ScheduledAction.status == "pending")
                    .values(run_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    Worker().run_until_idle()
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReportStaleDay)) == 0
    assert reports(api, factory, admin) == from_the_deals(api, session, factory, admin)
    assert deal.name in {r["name"] for r in api.get("/api/v1/deals", headers=factory.headers(admin)).json()["items"]}


def test_many_lengths_give_approximate_percentiles_near_the_exact_ones(api, session, factory, company, monkeypatch):
    admin = company.users["admin"]
    exact = reports(api, factory, admin)["stage-time"]
    monkeypatch.setattr(durations, "EXACT_UP_TO", 0)  # as if there were more lengths than are read one by one
    approximate = reports(api, factory, admin)["stage-time"]
    assert exact["note"] is None and "histograms" in approximate["note"]
    for key in ("stages", "cycle"):
        for want, got in zip(exact["tables"][[t["key"] for t in exact["tables"]].index(key)]["rows"],
                             approximate["tables"][[t["key"] for t in approximate["tables"]].index(key)]["rows"], strict=True):
            assert got["stays" if key == "stages" else "deals"] == want["stays" if key == "stages" else "deals"]
            for column in ("median_days", "p90_days"):
                assert (got[column] is None) == (want[column] is None)
                if want[column]:
                    assert abs(got[column] - want[column]) <= 0.025 * want[column], (key, want, got)

    # A change not yet stored reads the same as once stored.
    deal_id = session.scalar(select(Deal.id).where(Deal.stage_id.in_([s.id for s in company.stages[:3]]),
                                                   Deal.close_date.is_not(None)).limit(1))
    moved = api.post(f"/api/v1/deals/{deal_id}/move", json={"stage_id": str(company.stages[3].id)},
                     headers=factory.headers(admin))
    assert moved.status_code == 200, moved.text
    before_refresh = reports(api, factory, admin)["stage-time"]
    rollups.refresh(session)
    session.commit()
    assert reports(api, factory, admin)["stage-time"] == before_refresh


def test_the_worker_takes_many_changed_days_a_few_per_transaction(api, session, factory, company):
    admin = company.users["admin"]
    Worker().run_until_idle()  # the seeding's events, whose refresh timer is then taken away (it may fall due mid-test)
    session.commit()
    session.execute(delete(ScheduledAction).where(ScheduledAction.kind == REFRESH_ACTION))
    rollups.refresh(session)
    days = sorted({d.date() for d in session.scalars(select(Deal.created_at))})[:12]
    session.add_all(ReportStaleDay(day=d) for d in days)
    session.commit()
    rollups.refresh(session, most=5)
    session.commit()
    assert session.scalar(select(func.count(func.distinct(ReportStaleDay.day)))) == len(days) - 5
    session.add(ScheduledAction(key=f"{REFRESH_ACTION}:now", kind=REFRESH_ACTION, run_at=utcnow(), payload={}, status="pending"))
    session.commit()
    Worker().run_until_idle()
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReportStaleDay)) == 0
    runs = session.scalar(select(func.count()).select_from(ScheduledAction).where(
        ScheduledAction.kind == REFRESH_ACTION, ScheduledAction.status == "done"))
    assert runs == 2  # the seven days left: five, then two
    assert reports(api, factory, admin) == from_the_deals(api, session, factory, admin)


def test_a_source_given_to_an_old_deal_reaches_its_stays_histograms(api, session, factory, company, monkeypatch):
    """A lead linked to a deal with a history (conversion into an existing deal, a merge):
    every day of that deal's stays counts it under the lead's source again."""
    admin = company.users["admin"]
    monkeypatch.setattr(durations, "EXACT_UP_TO", 0)  # the histograms, not the stays one by one
    deal_id = session.scalar(select(Deal.id).where(Deal.closed_at.is_not(None)).order_by(Deal.created_at).limit(1))
    lead = factory.lead(admin, source=SOURCES[2])
    session.commit()
    session.execute(update(Lead).where(Lead.id == lead.id).values(converted_deal_id=deal_id))
    session.commit()
    changed = reports(api, factory, admin, source=SOURCES[2])["stage-time"]
    rollups.refresh(session)
    session.commit()
    stored = reports(api, factory, admin, source=SOURCES[2])["stage-time"]
    session.add(ReportStaleDay(day=None))  # every day computed again from the deals
    session.commit()
    rollups.refresh(session)
    session.commit()
    assert changed == stored == reports(api, factory, admin, source=SOURCES[2])["stage-time"]
    assert stored["tables"][0]["rows"] and any(r["stays"] for r in stored["tables"][0]["rows"])


def test_on_sqlite_a_day_is_noted_once_until_it_is_refreshed(session, factory, company):
    """Writers take turns on SQLite, so a day already noted is not noted again; on PostgreSQL
    every write adds its note (a refresh there could delete one that a write in flight saw)."""
    session.commit()
    rollups.refresh(session)
    session.commit()
    rep = company.users["east_rep"]
    for _ in range(3):
        factory.lead(rep, source=SOURCES[0])
    session.commit()
    today = utcnow().date()
    notes = session.scalar(select(func.count()).select_from(ReportStaleDay).where(ReportStaleDay.day == today))
    assert notes == (3 if IS_POSTGRES else 1)
    rollups.refresh(session)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReportStaleDay)) == 0
    factory.lead(rep, source=SOURCES[0])
    session.commit()
    assert session.scalars(select(ReportStaleDay.day)).all() == [today]


def test_noting_a_day_once_is_undone_by_the_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = alembic_config(url)
    engine = create_engine(url)

    def triggers() -> dict[str, str]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())

    command.upgrade(config, "0049")
    before = triggers()
    command.upgrade(config, "0050")
    after = triggers()
    assert after.keys() == before.keys() and all("NOT EXISTS" in sql for sql in after.values() if "report_stale_day" in sql)
    command.downgrade(config, "0049")
    assert triggers() == before
    engine.dispose()
