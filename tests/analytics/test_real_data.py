"""The reports on real data: a sample of a public CRM opportunity history (the Maven
Analytics "CRM + Sales + Opportunities" set: 8,800 opportunities of 35 agents, 2016-10 to
2017-12), loaded into deals with its stage history, checked against numbers computed
straight from the CSV file.

Import mapping: a deal is created on its engage date (Prospecting deals, which have none,
on 2017-12-31) and enters Engaging then; won and lost deals close on their close date;
the amount is the close value of a won deal, else the product's list price."""

import csv
import os
import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipewise.auth.models import Team, User
from pipewise.db.base import uuid7
from pipewise.deals.defaults import StageTemplate, create_pipeline
from pipewise.deals.models import Deal, DealStageChange
from tests.analytics.reference import q

# The shared data sets sit beside the project (../shared/data); PIPEWISE_DATA_DIR names another place.
DATA = Path(os.environ.get("PIPEWISE_DATA_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "data") / "crm_opportunities"
SAMPLE_EVERY = 5
PROSPECTING_CREATED = date(2017, 12, 31)
RANGE = {"start": "2016-10-01", "end": "2017-12-31"}
STAGES = (StageTemplate("Prospecting", 10), StageTemplate("Engaging", 40),
          StageTemplate("Won", 100, "won"), StageTemplate("Lost", 0, "lost"))

pytestmark = pytest.mark.skipif(not (DATA / "sales_pipeline.csv").exists(), reason="the CRM opportunities data set is not here")


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def sample() -> list[dict[str, Any]]:
    prices = {r["product"].replace(" ", ""): Decimal(r["sales_price"]) for r in read("products.csv")}
    rows = []
    for row in read("sales_pipeline.csv")[::SAMPLE_EVERY]:
        stage = row["deal_stage"]
        created = date.fromisoformat(row["engage_date"]) if row["engage_date"] else PROSPECTING_CREATED
        closed = date.fromisoformat(row["close_date"]) if row["close_date"] else None
        amount = Decimal(row["close_value"]) if stage == "Won" else prices[row["product"].replace(" ", "")]
        rows.append({"agent": row["sales_agent"], "stage": stage, "created": created, "closed": closed, "amount": amount})
    return rows


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    rows = sample()
    teams: dict[str, Team] = {}
    users: dict[str, User] = {}
    members = read("sales_teams.csv")
    for member in members:
        teams.setdefault(member["manager"], Team(name=member["manager"]))
    session.add_all(teams.values())
    session.flush()
    for member in members:
        users[member["sales_agent"]] = User(email=f"{uuid.uuid4().hex[:12]}@agents.example", name=member["sales_agent"],
                                            role="rep", team_id=teams[member["manager"]].id)
    admin = User(email="admin@agents.example", name="Admin", role="admin")
    session.add_all([*users.values(), admin])
    session.flush()
    pipeline, stages = create_pipeline(session, name="Opportunities", stages=STAGES)
    by_name = {s.name: s for s in stages}
    for n, row in enumerate(rows):
        stage = by_name[row["stage"]]
        created = at(row["created"])
        closed = at(row["closed"]) if row["closed"] else None
        deal = Deal(id=uuid7(), name=f"Opportunity {n}", pipeline_id=pipeline.id, stage_id=stage.id, amount=row["amount"],
                    owner_id=users[row["agent"]].id, created_at=created, closed_at=closed, stage_entered_at=closed or created,
                    close_date=row["closed"])
        session.add(deal)
        first = by_name["Prospecting"] if row["stage"] == "Prospecting" else by_name["Engaging"]
        session.add(DealStageChange(deal_id=deal.id, from_stage_id=None, to_stage_id=first.id, at=created))
        if closed is not None:
            session.add(DealStageChange(deal_id=deal.id, from_stage_id=first.id, to_stage_id=stage.id, at=closed))
    session.commit()
    return rows, admin, teams, pipeline


def report(api: Any, factory: Any, user: User, slug: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/v1/reports/{slug}", params={**RANGE, **params}, headers=factory.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def rows_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(t for t in body["tables"] if t["key"] == key)["rows"]


def test_reports_match_the_csv(api, factory, loaded):
    rows, admin, _teams, _pipeline = loaded
    closed = [r for r in rows if r["closed"]]
    won = [r for r in closed if r["stage"] == "Won"]

    flow = {r["period"]: r for r in rows_of(report(api, factory, admin, "deal-flow"), "periods")}
    created = Counter(r["created"].strftime("%Y-%m") for r in rows)
    wins = Counter(r["closed"].strftime("%Y-%m") for r in won)
    losses = Counter(r["closed"].strftime("%Y-%m") for r in closed if r["stage"] == "Lost")
    for month, row in flow.items():
        assert (row["created"], row["won"], row["lost"]) == (created[month], wins[month], losses[month]), month

    body = report(api, factory, admin, "funnel")
    reached = [r["deals"] for r in rows_of(body, "stages")]
    assert reached == [len(rows), sum(1 for r in rows if r["stage"] != "Prospecting"), len(won)]
    assert abs(body["headline"][1]["value"] - len(won) / len(closed)) < 1e-4

    everyone = rows_of(report(api, factory, admin, "velocity"), "owners")[-1]
    cycle = statistics.fmean((r["closed"] - r["created"]).days for r in won)
    assert everyone["open_deals"] == sum(1 for r in rows if not r["closed"])
    assert Decimal(everyone["average_won"]) == (sum(r["amount"] for r in won) / len(won)).quantize(Decimal("0.01"))
    assert abs(everyone["cycle_days"] - cycle) < 1e-4

    body = report(api, factory, admin, "stage-time")
    engaging = next(r for r in rows_of(body, "stages") if r["stage"] == "Engaging")
    stays = [float((r["closed"] - r["created"]).days) for r in closed]
    assert engaging["stays"] == len(stays)
    assert abs(engaging["median_days"] - q(stays, 0.5)) < 1e-4 and abs(engaging["p90_days"] - q(stays, 0.9)) < 1e-4
    assert abs(rows_of(body, "cycle")[0]["median_days"] - q([float((r["closed"] - r["created"]).days) for r in won], 0.5)) < 1e-4

    pipeline = {r["stage"]: r for r in rows_of(report(api, factory, admin, "pipeline"), "stages")}
    for stage in ("Prospecting", "Engaging"):
        mine = [r for r in rows if r["stage"] == stage]
        assert (pipeline[stage]["deals"], Decimal(pipeline[stage]["value"])) == (len(mine), sum((r["amount"] for r in mine), Decimal(0)))


def test_a_team_filter_matches_the_csv(api, factory, loaded):
    rows, admin, teams, _pipeline = loaded
    agents = defaultdict(set)
    for member in read("sales_teams.csv"):
        agents[member["manager"]].add(member["sales_agent"])
    team = "Dustin Brinkmann"
    body = report(api, factory, admin, "deal-flow", team_id=str(teams[team].id))
    assert body["headline"][1]["value"] == sum(1 for r in rows if r["stage"] == "Won" and r["agent"] in agents[team])
