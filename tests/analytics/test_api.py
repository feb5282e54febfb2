"""The reports API: who sees what, bad filters, the CSV export (spreadsheet-safe)."""

import csv
import io
from decimal import Decimal

from tests.analytics.seed import build_company


def test_each_person_counts_only_the_deals_they_may_see(api, session, factory):
    company = build_company(session, factory, deals=16)
    from sqlalchemy import select

    from pipewise.deals.models import Deal, Stage

    open_deals = session.execute(select(Deal.owner_id, Deal.amount).join(Stage, Stage.id == Deal.stage_id).where(Stage.kind == "open")).all()
    team_of = {u.id: u.team_id for u in company.users.values()}

    def open_value(user_key: str, **params: str) -> Decimal:
        body = api.get("/api/v1/reports/pipeline", params=params, headers=factory.headers(company.users[user_key])).json()
        return Decimal(body["headline"][1]["value"])

    def expected(team_name: str | None) -> Decimal:
        team = company.teams[team_name].id if team_name else None
        return sum((a or Decimal(0) for o, a in open_deals if team is None or o is None or team_of.get(o) == team), Decimal(0))

    assert open_value("admin") == expected(None)
    assert open_value("east_rep") == expected("East")
    assert open_value("west_manager") == expected("West")
    assert open_value("east_rep") != open_value("west_rep")
    # Filtering to the other team shows nothing of it.
    east = str(company.teams["East"].id)
    assert open_value("west_rep", team_id=east) == Decimal(0)
    assert open_value("admin", team_id=east) > 0


def test_bad_filters_are_refused_field_by_field(api, session, factory):
    headers = factory.headers(factory.user(role="admin"))
    response = api.get("/api/v1/reports/funnel", params={"start": "2026-05-01", "end": "2026-01-01"}, headers=headers)
    assert response.status_code == 422
    assert "start" in response.text
    response = api.get("/api/v1/reports/funnel", params={"start": "yesterday", "team_id": "x"}, headers=headers)
    assert response.status_code == 422
    assert "start" in response.text and "team_id" in response.text
    assert api.get("/api/v1/reports/velocity.csv", params={"table": "nope"}, headers=headers).status_code == 422
    assert api.get("/api/v1/reports/velocity", params={"start": "2026-01-01"}).status_code == 401


def test_the_csv_export_is_spreadsheet_safe(api, session, factory):
    admin = factory.user(role="admin")
    factory.lead(admin, source="=HYPERLINK(\"http://x\")")
    session.commit()
    response = api.get("/api/v1/reports/lead-sources.csv", headers=factory.headers(admin))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "Source"
    assert rows[1][0].startswith("'=HYPERLINK")


def test_the_catalogue_lists_every_report(api, session, factory):
    from pipewise.analytics.catalogue import REPORTS

    body = api.get("/api/v1/reports", headers=factory.headers(factory.user())).json()
    assert [r["slug"] for r in body] == list(REPORTS)
