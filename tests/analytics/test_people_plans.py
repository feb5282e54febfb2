"""The people reports read the indexes made for them: the activities in a range and the
leads created in one from a covering index alone, and a lead's first activity by a person
from the index under (lead, automated, time) rather than by walking every activity in time
order. Each report is run over HTTP; the plans of the statements it sent are read from the
database's own planner, as in tests/records/test_query_plans.py."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from pipewise.db.session import get_engine
from tests.analytics.seed import build_company
from tests.conftest import IS_POSTGRES


@contextmanager
def statements_sent() -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(get_engine(), "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(get_engine(), "before_cursor_execute", keep)


def plans_of_report(api: Any, factory: Any, user: Any, slug: str, reads: str) -> list[str]:
    """The plans of the statements the report sent that read ``reads``."""
    with statements_sent() as sent:
        response = api.get(f"/api/v1/reports/{slug}", headers=factory.headers(user))
    assert response.status_code == 200, response.text
    plans = []
    with get_engine().connect() as conn:
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT") or f"FROM {reads}" not in statement:
                continue
            if IS_POSTGRES:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
                plans.append(json.dumps(plan))
            else:
                plans.append("\n".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)))
    assert plans, f"{slug} sent no statement reading {reads}"
    return plans


@pytest.fixture
def company(session, factory):  # type: ignore[no-untyped-def]
    return build_company(session, factory)


def test_activities_per_rep_read_the_covering_index(api, factory, company):
    # As an admin: a rep's list of visible owners may rightly be read through the owner
    # index instead while the tables are this small.
    plans = plans_of_report(api, factory, company.users["admin"], "activities", "activity")
    per_rep = plans[0]
    if IS_POSTGRES:
        assert "ix_activity_occurred_cover" in per_rep and '"Seq Scan"' not in per_rep, per_rep
    else:
        assert "USING COVERING INDEX ix_activity_occurred_cover" in per_rep, per_rep


@pytest.mark.parametrize("who", ["admin", "west_rep"])
def test_speed_to_lead_reads_leads_and_first_touches_from_indexes(api, factory, company, who):
    (plan,) = plans_of_report(api, factory, company.users[who], "speed-to-lead", "lead")
    assert "ix_activity_lead_first" in plan, plan
    if IS_POSTGRES:
        assert '"Seq Scan"' not in plan, plan
    else:
        assert "SCAN activity" not in plan and "SCAN lead" not in plan, plan
        if who == "admin":  # a rep's leads may come through the (owner, created) index instead
            assert "USING COVERING INDEX ix_lead_created_cover" in plan, plan
