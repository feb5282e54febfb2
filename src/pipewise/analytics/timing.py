"""How long deals take: time in each stage (median, p90), stage slippage (close dates
pushed out, close dates passed) and the sales cycle (definitions: docs/reports.md)."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.analytics import durations, rollups, sql
from pipewise.analytics.filters import ReportFilter, deal_conditions, in_range
from pipewise.analytics.results import APPROXIMATE, Chart, Column, Report, Table
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal
from pipewise.records.models import RecordHistory


def close_date_pushes(session: Session, flt: ReportFilter, actor: Actor) -> list[tuple[Any, float]]:
    """(deal id, days pushed) of every change in the range that moved a close date later."""
    stmt = select(RecordHistory.record_id, RecordHistory.changes).where(
        RecordHistory.record_type == "deal",
        RecordHistory.changes["close_date"].is_not(None),
        RecordHistory.record_id.in_(select(Deal.id).where(*deal_conditions(Deal, flt, actor))),
        *in_range(RecordHistory.at, flt),
    )
    pushes = []
    for deal_id, changes in session.execute(stmt):
        old, new = (changes.get("close_date") or [None, None])[:2]
        if old and new and str(new) > str(old):
            pushes.append((deal_id, float((date.fromisoformat(str(new)[:10]) - date.fromisoformat(str(old)[:10])).days)))
    return pushes


def stage_times(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    stage_rows = sql.stages(session, flt.pipeline_id)
    pipelines = sql.pipeline_names(session)
    stays, approximate = durations.spreads(session, durations.STAY, flt, actor)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    due = rollups.deal_sums(session, rollups.DUE, flt, actor, by=("stage_id",), since=None, end=yesterday,
                            stage_ids=[s.id for s in stage_rows if s.kind == "open"])
    overdue = {stage_id: sums.deals for (stage_id,), sums in due.items()}
    pushes = close_date_pushes(session, flt, actor)
    current = dict(session.execute(select(Deal.id, Deal.stage_id).where(Deal.id.in_({d for d, _ in pushes}))).all()) if pushes else {}
    pushed: dict[Any, list[tuple[Any, float]]] = defaultdict(list)
    for deal_id, days in pushes:
        pushed[current.get(deal_id)].append((deal_id, days))
    rows = []
    for stage in stage_rows:
        if stage.kind != "open":
            continue
        days = stays.get(stage.id, durations.Spread())
        moves = pushed.get(stage.id, [])
        rows.append({
            "pipeline": pipelines.get(stage.pipeline_id, ""), "stage": stage.name, "stays": days.count,
            "median_days": days.quantile(0.5), "p90_days": days.quantile(0.9),
            "overdue_deals": overdue.get(stage.id, 0), "pushes": len(moves), "deals_pushed": len({d for d, _ in moves}),
            "days_pushed": sum(d for _, d in moves),
        })
    stages_table = Table("stages", "Time in stage and slippage", [
        Column("pipeline", "Pipeline"), Column("stage", "Stage"), Column("stays", "Stays ended", "count"),
        Column("median_days", "Median", "days"), Column("p90_days", "90th percentile", "days"),
        Column("overdue_deals", "Open past close date", "count"), Column("pushes", "Close date pushed", "count"),
        Column("deals_pushed", "Deals pushed", "count"), Column("days_pushed", "Days pushed", "days"),
    ], rows)
    cycle_table, cycles_approximate = sales_cycle(session, flt, actor, stage_rows)
    chart = Chart("bar", [r["stage"] for r in rows], [
        {"label": "Median days", "data": [r["median_days"] or 0 for r in rows]},
        {"label": "90th percentile", "data": [r["p90_days"] or 0 for r in rows]},
    ])
    won = cycle_table.rows[0]
    headline = [{"label": "Sales cycle (median, won)", "value": won["median_days"], "kind": "days"},
                {"label": "Open past close date", "value": sum(r["overdue_deals"] for r in rows), "kind": "count"},
                {"label": "Close dates pushed", "value": len(pushes), "kind": "count"}]
    note = APPROXIMATE if approximate or cycles_approximate else None
    return Report("stage-time", "Time in stage, slippage and sales cycle", [stages_table, cycle_table], chart, headline, note)


def sales_cycle(session: Session, flt: ReportFilter, actor: Actor, stage_rows: list[Any]) -> tuple[Table, bool]:
    """Days from creation to close of the deals won (and lost) in the range; and whether
    the percentiles are approximate."""
    cycles, approximate = durations.spreads(session, durations.CYCLE, flt, actor)
    closed = rollups.deal_sums(session, rollups.CLOSED, flt, actor, by=("stage_id",), since=flt.start, end=flt.end)
    rows = []
    for kind, label in (("won", "Won"), ("lost", "Lost")):
        ids = [s.id for s in stage_rows if s.kind == kind]
        spread = durations.Spread.joined(cycles[i] for i in ids if i in cycles)
        deals = sum(closed[(i,)].deals for i in ids if (i,) in closed)
        total_days = sum(closed[(i,)].cycle_days for i in ids if (i,) in closed)
        rows.append({"outcome": label, "deals": deals, "median_days": spread.quantile(0.5), "p90_days": spread.quantile(0.9),
                     "mean_days": total_days / deals if deals else None})
    return Table("cycle", "Sales cycle length", [
        Column("outcome", "Closed as"), Column("deals", "Deals", "count"), Column("median_days", "Median", "days"),
        Column("p90_days", "90th percentile", "days"), Column("mean_days", "Mean", "days"),
    ], rows), approximate
