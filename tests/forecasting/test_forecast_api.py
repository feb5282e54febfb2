"""The forecast over HTTP: categories and audited calls, quotas rolled up, snapshots and
the reports they answer, the predictive forecast and the backtest upload."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from pipewise.events.models import ScheduledAction
from pipewise.forecasting.models import ForecastOverride, ForecastSnapshot
from pipewise.forecasting.periods import period_of
from pipewise.forecasting.snapshots import SNAPSHOT_ACTION
from pipewise.worker.runner import Worker



@pytest.fixture
def company(factory, session):  # type: ignore[no-untyped-def]
    east, west = factory.team("East"), factory.team("West")
    people = {
        "admin": factory.user(role="admin", name="Ada Admin"),
        "east_manager": factory.user(role="manager", team=east, name="Erin Manager"),
        "east_rep": factory.user(role="rep", team=east, name="Eve Rep"),
        "east_rep2": factory.user(role="rep", team=east, name="Ezra Rep"),
        "west_rep": factory.user(role="rep", team=west, name="Will Rep"),
    }
    east.manager_id = people["east_manager"].id
    _pipeline, stages = factory.pipeline()
    by_name = {s.name: s for s in stages}
    today = datetime.now(UTC).date()
    deals = {
        "proposal": factory.deal(owner=people["east_rep"], name="Proposal deal", amount=Decimal("1000"),
                                 stage_id=by_name["Proposal"].id, close_date=today),
        "negotiation": factory.deal(owner=people["east_rep2"], name="Negotiation deal", amount=Decimal("3000"),
                                    stage_id=by_name["Negotiation"].id, close_date=today),
        "won": factory.deal(owner=people["east_rep"], name="Won deal", amount=Decimal("500"),
                            stage_id=by_name["Closed won"].id, close_date=today),
        "west": factory.deal(owner=people["west_rep"], name="West deal", amount=Decimal("7000"),
                             stage_id=by_name["Demo"].id, close_date=today),
    }
    session.commit()
    return {"people": people, "deals": deals, "teams": {"East": east, "West": west}, "stages": by_name}


def _h(factory, company, who):  # type: ignore[no-untyped-def]
    return factory.headers(company["people"][who])


def _deal(api, headers, deal):  # type: ignore[no-untyped-def]
    return api.get(f"/api/v1/forecast/deals/{deal.id}", headers=headers)


class TestCategories:
    def test_defaults_follow_the_stage(self, api, factory, company):
        rows = {d["name"]: d for d in api.get("/api/v1/forecast/deals", headers=_h(factory, company, "admin")).json()}
        assert rows["Proposal deal"]["category"] == "best_case"
        assert rows["Negotiation deal"]["category"] == "commit"
        assert rows["Won deal"]["category"] == "closed"
        assert rows["West deal"]["category"] == "pipeline"

    def test_the_rep_calls_their_own_deal_and_the_manager_overrules_with_an_audit_trail(self, api, factory, company,
                                                                                         session):
        deal = company["deals"]["proposal"]
        rep, manager = _h(factory, company, "east_rep"), _h(factory, company, "east_manager")
        made = api.post(f"/api/v1/forecast/deals/{deal.id}/calls", json={"category": "commit", "reason": "Signed LOI"},
                        headers=rep)
        assert made.status_code == 201 and made.json()["level"] == "rep" and made.json()["previous"] == "best_case"
        assert _deal(api, rep, deal).json()["category"] == "commit"
        overruled = api.post(f"/api/v1/forecast/deals/{deal.id}/calls",
                             json={"category": "pipeline", "reason": "Budget not approved"}, headers=manager)
        assert overruled.status_code == 201 and overruled.json()["level"] == "manager"
        shown = _deal(api, rep, deal).json()
        assert (shown["rep_call"], shown["manager_call"], shown["category"]) == ("commit", "pipeline", "pipeline")
        calls = api.get(f"/api/v1/forecast/deals/{deal.id}/calls", headers=rep).json()
        assert [c["reason"] for c in calls] == ["Budget not approved", "Signed LOI"]
        timeline = api.get(f"/api/v1/deals/{deal.id}/timeline", headers=rep).json()
        forecast_entries = [e for e in timeline if e["kind"] == "forecast"]
        assert forecast_entries[0]["detail"] == "Budget not approved"
        assert forecast_entries[0]["actor_id"] == str(company["people"]["east_manager"].id)
        assert session.scalar(select(ForecastOverride.id).where(ForecastOverride.deal_id == deal.id)) is not None

    def test_a_rep_may_not_call_a_teammates_deal_nor_see_another_teams(self, api, factory, company):
        rep = _h(factory, company, "east_rep")
        body = {"category": "commit", "reason": "sure"}
        teammate = api.post(f"/api/v1/forecast/deals/{company['deals']['negotiation'].id}/calls", json=body, headers=rep)
        assert teammate.status_code == 403
        other = api.post(f"/api/v1/forecast/deals/{company['deals']['west'].id}/calls", json=body, headers=rep)
        missing = api.post(f"/api/v1/forecast/deals/{uuid.uuid4()}/calls", json=body, headers=rep)
        assert other.status_code == missing.status_code == 404
        names = [d["name"] for d in api.get("/api/v1/forecast/deals", headers=rep).json()]
        assert "West deal" not in names and "Proposal deal" in names

    def test_bad_calls_are_refused_field_by_field_and_write_nothing(self, api, factory, company, session):
        rep = _h(factory, company, "east_rep")
        deal = company["deals"]["proposal"]
        bad = api.post(f"/api/v1/forecast/deals/{deal.id}/calls", json={"category": "closed", "reason": " "}, headers=rep)
        assert bad.status_code == 422
        won = api.post(f"/api/v1/forecast/deals/{company['deals']['won'].id}/calls",
                       json={"category": "commit", "reason": "x"}, headers=rep)
        assert won.status_code == 409
        assert session.scalar(select(ForecastOverride.id)) is None


class TestQuotas:
    def test_attainment_rolls_up_from_reps_to_team_to_company(self, api, factory, company):
        manager, admin = _h(factory, company, "east_manager"), _h(factory, company, "admin")
        period = period_of(date.today()).key
        for who, amount in (("east_rep", "1000"), ("east_rep2", "3000")):
            r = api.put("/api/v1/forecast/quotas", headers=manager,
                        json={"period": period, "amount": amount, "user_id": str(company["people"][who].id)})
            assert r.status_code == 200, r.text
        rollup = api.get("/api/v1/forecast", params={"period": period}, headers=admin).json()["rollup"]
        east = next(t for t in rollup["children"] if t["name"] == "East")
        assert Decimal(east["quota"]) == 4000 and Decimal(east["totals"]["closed"]) == 500
        assert east["attainment"] == pytest.approx(0.125)
        assert Decimal(east["totals"]["commit"]) == 3500  # closed 500 + commit 3,000
        assert Decimal(rollup["quota"]) == 4000  # no company quota: the teams' sum
        eve = next(p for p in east["children"] if p["name"] == "Eve Rep")
        assert eve["attainment"] == pytest.approx(0.5)
        r = api.put("/api/v1/forecast/quotas", headers=admin, json={"period": period, "amount": "10000"})
        assert r.status_code == 200 and r.json()["scope"] == "company"
        assert Decimal(api.get("/api/v1/forecast", params={"period": period}, headers=admin).json()["rollup"]["quota"]) == 10000

    def test_only_managers_set_quotas_and_only_within_reach(self, api, factory, company):
        period = period_of(date.today()).key
        west_user = str(company["people"]["west_rep"].id)
        rep = api.put("/api/v1/forecast/quotas", headers=_h(factory, company, "east_rep"),
                      json={"period": period, "amount": "5", "user_id": str(company["people"]["east_rep"].id)})
        assert rep.status_code == 403
        other = api.put("/api/v1/forecast/quotas", headers=_h(factory, company, "east_manager"),
                        json={"period": period, "amount": "5", "user_id": west_user})
        assert other.status_code == 404
        bad = api.put("/api/v1/forecast/quotas", headers=_h(factory, company, "admin"),
                      json={"period": "2026-13", "amount": "5"})
        assert bad.status_code == 422 and "period" in bad.text


class TestSnapshots:
    def test_the_weekly_timer_snapshots_and_the_reports_read_it(self, api, factory, company, session):
        admin, west = _h(factory, company, "admin"), _h(factory, company, "west_rep")
        Worker(name="test").run_until_idle()  # the new deals' events set the weekly timer
        session.execute(update(ScheduledAction).where(ScheduledAction.kind == SNAPSHOT_ACTION,
                                                      ScheduledAction.status == "pending")
                        .values(run_at=datetime(2000, 1, 1, tzinfo=UTC)))
        session.commit()
        Worker(name="test").run_until_idle()
        assert session.scalar(select(ForecastSnapshot.kind)) == "weekly"
        next_timer = session.scalar(select(ScheduledAction.run_at).where(ScheduledAction.kind == SNAPSHOT_ACTION,
                                                                         ScheduledAction.status == "pending"))
        session.commit()
        assert next_timer is not None and next_timer.weekday() == 0

        period = period_of(date.today())
        vs = api.get("/api/v1/forecast/forecast-vs-actual", params={"period": period.key}, headers=admin).json()
        assert Decimal(vs["actual"]) == 500
        (point,) = vs["snapshots"]
        assert (Decimal(point["closed"]), Decimal(point["commit"]), Decimal(point["best_case"])) == (500, 3500, 4500)

        deal = company["deals"]["negotiation"]
        moved = api.patch(f"/api/v1/deals/{deal.id}", json={"close_date": (period.end + timedelta(days=5)).isoformat()},
                          headers=admin)
        assert moved.status_code == 200
        slipped = api.get("/api/v1/forecast/slipped", params={"period": period.key}, headers=admin).json()
        assert [s["name"] for s in slipped] == ["Negotiation deal"]
        rep_view = api.get("/api/v1/forecast/slipped", params={"period": period.key}, headers=west).json()
        assert rep_view == []
        api.put("/api/v1/forecast/quotas", headers=admin, json={"period": period.key, "amount": "2500"})
        (cover,) = api.get("/api/v1/forecast/coverage", params={"period": period.key}, headers=admin).json()
        assert Decimal(cover["left_to_quota"]) == 2000 and cover["coverage"] == pytest.approx(11000 / 2000)

    def test_a_rep_may_not_take_a_snapshot(self, api, factory, company):
        assert api.post("/api/v1/forecast/snapshots", headers=_h(factory, company, "east_rep")).status_code == 403
        assert api.post("/api/v1/forecast/snapshots", headers=_h(factory, company, "east_manager")).status_code == 201


class TestPredictive:
    def test_without_history_it_falls_back_to_stage_probabilities(self, api, factory, company):
        result = api.get("/api/v1/forecast/predictive", headers=_h(factory, company, "east_rep")).json()
        assert result["method"] == "stage probabilities"
        ids = {d["id"] for d in result["deals"]}
        assert str(company["deals"]["west"].id) not in ids and str(company["deals"]["proposal"].id) in ids
        assert result["low"] <= result["expected"] * 2 and result["high"] >= result["low"]

    def test_a_past_period_is_refused(self, api, factory, company):
        r = api.get("/api/v1/forecast/predictive", params={"period": "2001-01"}, headers=_h(factory, company, "admin"))
        assert r.status_code == 422


class TestBacktestUpload:
    def test_a_history_is_replayed_month_by_month(self, api, factory, company):
        lines = ["opportunity_id,sales_agent,product,deal_stage,engage_date,close_date,close_value"]
        for n in range(120):
            engaged = date(2017, 1, 1) + timedelta(days=n * 2)
            won = n % 3 != 0
            lines.append(f"D{n},Rep {n % 4},GTX,{'Won' if won else 'Lost'},{engaged},{engaged + timedelta(days=20 + n % 30)},"
                         f"{1000 + n if won else 0}")
        content = ("\n".join(lines) + "\n").encode()
        r = api.post("/api/v1/forecast/backtest", files={"file": ("pipeline.csv", content, "text/csv")},
                     headers=_h(factory, company, "east_rep"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert [m["month"] for m in body["months"]][:2] == ["2017-02", "2017-03"]
        assert {"mape", "brier", "calibration_error", "covered_months", "weighted_pipeline_mape"} <= body.keys()

    def test_a_broken_file_gets_its_lines_named(self, api, factory, company):
        content = b"opportunity_id,sales_agent,product,deal_stage,engage_date,close_date,close_value\nA,R,P,Won,x,,1\n"
        r = api.post("/api/v1/forecast/backtest", files={"file": ("bad.csv", content, "text/csv")},
                     headers=_h(factory, company, "admin"))
        assert r.status_code == 422 and "line 2" in r.text
