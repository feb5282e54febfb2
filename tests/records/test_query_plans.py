"""Every list filter the UI and the API offer is backed by an index: the plan of the list
query reads an index instead of scanning the table, and where the filter is an equality
and the sort is the default (newest first), it walks the index in order instead of sorting
every matching row. Read from the database's own planner: SQLite's EXPLAIN QUERY PLAN
(its choice of index does not depend on table statistics), and PostgreSQL's EXPLAIN with
sequential scans priced out; on PostgreSQL the order is not checked, since over the test's
empty tables its cost model rightly prefers sorting one estimated row."""

import json
import uuid

import pytest
from sqlalchemy import text

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.leads import queries
from pipewise.records.registry import spec_for
from pipewise.records.repository import ListQuery, RecordRepository
from tests.conftest import IS_POSTGRES

SOME_ID = str(uuid.UUID(int=7))


def condition(field: str, op: str, value: object) -> dict:
    return {"all": [{"field": field, "op": op, "value": value}]}


# (record type, filter, sort, walks the index in order): every filter and sort the list
# pages offer (web/records/views.py; a saved view is one of them), the lead desk's and the
# API's common ones (score, close date). Substring filters (industry, source "contains")
# cannot use a B-tree and are not listed.
LIST_FILTERS = [
    ("lead", condition("status", "eq", "new"), "-created_at", True),
    ("lead", condition("status", "eq", "new"), "-score", True),
    ("lead", condition("owner_id", "eq", SOME_ID), "-created_at", True),
    ("lead", condition("owner_id", "eq", SOME_ID), "-score", True),
    ("lead", None, "-score", True),
    ("lead", condition("score", "gte", 50), "-score", True),
    ("lead", condition("score", "gte", 50), "-created_at", False),
    ("lead", None, "-fit_score", True),
    ("lead", condition("fit_score", "gte", 20), "-fit_score", True),
    ("lead", None, "-engagement_score", True),
    ("lead", condition("engagement_score", "gt", 0), "-engagement_score", True),
    ("lead", None, "last_name", True),
    ("lead", None, "company", True),
    ("lead", condition("source", "eq", "webinar"), "-created_at", False),
    ("deal", condition("stage_id", "eq", SOME_ID), "-created_at", True),
    ("deal", condition("stage_id", "eq", SOME_ID), "close_date", True),
    ("deal", condition("owner_id", "eq", SOME_ID), "-created_at", True),
    ("deal", condition("owner_id", "eq", SOME_ID), "close_date", True),
    ("deal", condition("pipeline_id", "eq", SOME_ID), "-created_at", True),
    ("deal", condition("close_date", "gte", "2026-01-01"), "close_date", True),
    ("deal", condition("close_date", "gte", "2026-01-01"), "-created_at", False),
    ("deal", None, "close_date", True),
    ("deal", None, "-amount", True),
    ("deal", None, "name", True),
    ("contact", condition("lifecycle_stage", "eq", "mql"), "-created_at", True),
    ("contact", condition("owner_id", "eq", SOME_ID), "-created_at", True),
    ("contact", None, "last_name", True),
    ("account", condition("owner_id", "eq", SOME_ID), "-created_at", True),
    ("account", condition("country", "eq", "DE"), "-created_at", True),
    ("account", condition("industry", "eq", "Software"), "-created_at", False),
    ("account", None, "name", True),
    ("account", None, "-size", True),
]


def plan_of(session, record_type: str, tree, sort: str) -> str:
    repo = RecordRepository(session, spec_for(record_type))
    stmt, _column = repo.list_statement(SYSTEM_ACTOR, ListQuery(filter=tree, sort=sort))
    return plan_of_statement(session, stmt)


def plan_of_statement(session, stmt) -> str:
    compiled = stmt.limit(50).compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    if IS_POSTGRES:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar()
        return json.dumps(rows if not isinstance(rows, str) else json.loads(rows))
    return "\n".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


@pytest.mark.parametrize(("record_type", "tree", "sort", "in_order"), LIST_FILTERS)
def test_list_filter_reads_an_index(session, record_type, tree, sort, in_order):
    plan = plan_of(session, record_type, tree, sort)
    table = spec_for(record_type).model.__tablename__
    if IS_POSTGRES:
        assert '"Seq Scan"' not in plan, plan
        assert "Index" in plan, plan
    else:
        assert f"SCAN {table}\n" not in plan + "\n", plan
        assert "USING" in plan and "INDEX" in plan, plan
        if in_order:
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    session.rollback()


@pytest.mark.parametrize("scope", ["mine", "queues", "all"])
def test_the_lead_desk_queue_reads_an_index_in_score_order(session, scope):
    """The rep's work queue (open leads, best score first) walks a score index."""
    rep = Actor(id=uuid.UUID(SOME_ID), role="rep", team_ids=frozenset())
    plan = plan_of_statement(session, queries.work_queue_statement(session, rep if scope != "all" else SYSTEM_ACTOR, scope=scope))
    if IS_POSTGRES:
        assert '"Seq Scan"' not in plan, plan
    else:
        assert "SCAN lead\n" not in plan + "\n" and "INDEX" in plan, plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    session.rollback()
