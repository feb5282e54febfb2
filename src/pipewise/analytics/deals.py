"""Deal reports: pipeline by stage, deals created / won / lost over time, the stage
funnel with win rate, and sales velocity with its parts (definitions: docs/reports.md)."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.analytics import sql
from pipewise.analytics.filters import ReportFilter, deal_conditions, in_range
from pipewise.analytics.periods import period_of, periods
from pipewise.analytics.results import Chart, Column, Report, Table, ratio
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealStageChange, Stage

ZERO = Decimal("0")


def _ids(stage_rows: list[Stage], kind: str) -> list[Any]:
    return [s.id for s in stage_rows if s.kind == kind]


def pipeline_value(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Open deals created in the range, per stage: count, value and value × probability."""
    stage_rows = sql.stages(session, flt.pipeline_id)
    pipelines = sql.pipeline_names(session)
    stmt = (
        select(Deal.stage_id, func.count(), func.sum(Deal.amount))
        .where(Deal.stage_id.in_(_ids(stage_rows, "open")), *deal_conditions(Deal, flt, actor), *in_range(Deal.created_at, flt))
        .group_by(Deal.stage_id)
    )
    found = {stage_id: (count, amount or ZERO) for stage_id, count, amount in session.execute(stmt)}
    rows = []
    for stage in stage_rows:
        if stage.kind != "open" or (stage.id not in found and flt.pipeline_id is None and len(pipelines) > 1):
            continue
        count, value = found.get(stage.id, (0, ZERO))
        weighted = (Decimal(value) * stage.probability / 100).quantize(Decimal("0.01"))
        rows.append({"pipeline": pipelines.get(stage.pipeline_id, ""), "stage": stage.name, "deals": count,
                     "value": Decimal(value), "probability": stage.probability / 100, "weighted_value": weighted})
    table = Table("stages", "Open pipeline by stage", [
        Column("pipeline", "Pipeline"), Column("stage", "Stage"), Column("deals", "Deals", "count"),
        Column("value", "Value", "money"), Column("probability", "Probability", "percent"),
        Column("weighted_value", "Weighted value", "money"),
    ], rows)
    chart = Chart("bar", [r["stage"] for r in rows], [
        {"label": "Value", "data": [r["value"] for r in rows]},
        {"label": "Weighted value", "data": [r["weighted_value"] for r in rows]},
    ])
    headline = [
        {"label": "Open deals", "value": sum(r["deals"] for r in rows), "kind": "count"},
        {"label": "Pipeline value", "value": sum((r["value"] for r in rows), ZERO), "kind": "money"},
        {"label": "Weighted value", "value": sum((r["weighted_value"] for r in rows), ZERO), "kind": "money"},
    ]
    return Report("pipeline", "Pipeline value by stage", [table], chart, headline)


def deal_flow(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Per week or month: deals created (by creation time), won and lost (by close time)."""
    stage_rows = sql.stages(session, flt.pipeline_id)
    conditions = deal_conditions(Deal, flt, actor)
    series: dict[str, dict[str, Any]] = {p: {"period": p} for p in periods(flt)}

    def add(prefix: str, column: Any, *where: Any) -> None:
        period = period_of(session, column, flt.interval).label("period")
        stmt = select(period, func.count(), func.sum(Deal.amount)).where(*conditions, *in_range(column, flt), *where).group_by(period)
        for label, count, amount in session.execute(stmt):
            row = series.setdefault(label, {"period": label})
            row[prefix], row[f"{prefix}_value"] = count, Decimal(amount or 0)

    add("created", Deal.created_at)
    add("won", Deal.closed_at, Deal.stage_id.in_(_ids(stage_rows, "won")))
    add("lost", Deal.closed_at, Deal.stage_id.in_(_ids(stage_rows, "lost")))
    rows = [series[k] for k in sorted(series)]
    for row in rows:
        for name in ("created", "won", "lost"):
            row.setdefault(name, 0)
            row.setdefault(f"{name}_value", ZERO)
    table = Table("periods", "Deals created, won and lost", [
        Column("period", "Period"), Column("created", "Created", "count"), Column("created_value", "Created value", "money"),
        Column("won", "Won", "count"), Column("won_value", "Won value", "money"),
        Column("lost", "Lost", "count"), Column("lost_value", "Lost value", "money"),
    ], rows)
    chart = Chart("line", [r["period"] for r in rows], [
        {"label": name.title(), "data": [r[name] for r in rows]} for name in ("created", "won", "lost")
    ])
    headline = [{"label": name.title(), "value": sum(r[name] for r in rows), "kind": "count"} for name in ("created", "won", "lost")]
    return Report("deal-flow", "Deals created, won and lost", [table], chart, headline)


def funnel(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Deals of one pipeline created in the range: how many reached each stage (a deal
    reached every open stage up to the furthest one its stage history shows; a won deal
    reached them all), the conversion from each stage to the next, and the win rate."""
    pipeline_id = sql.funnel_pipeline(session, flt.pipeline_id)
    stage_rows = sql.stages(session, pipeline_id) if pipeline_id else []
    open_stages = [s for s in stage_rows if s.kind == "open"]
    kind_of = {s.id: s.kind for s in stage_rows}
    cohort = [Deal.pipeline_id == pipeline_id, *deal_conditions(Deal, flt, actor), *in_range(Deal.created_at, flt)]
    furthest = (
        select(DealStageChange.deal_id, func.max(Stage.position).label("position"))
        .join(Stage, Stage.id == DealStageChange.to_stage_id)
        .where(Stage.kind == "open", DealStageChange.deal_id.in_(select(Deal.id).where(*cohort)))
        .group_by(DealStageChange.deal_id)
        .subquery()
    )
    position = func.coalesce(furthest.c.position, 0)
    stmt = (
        select(position, Deal.stage_id, func.count(), func.sum(Deal.amount))
        .select_from(Deal).outerjoin(furthest, furthest.c.deal_id == Deal.id)
        .where(*cohort).group_by(position, Deal.stage_id)
    )
    groups = [(pos, kind_of.get(stage_id, "open"), count, Decimal(amount or 0)) for pos, stage_id, count, amount in session.execute(stmt)]
    rows = []
    for stage in open_stages:
        reached = [(c, a) for pos, kind, c, a in groups if kind == "won" or pos >= stage.position]
        rows.append({"stage": stage.name, "deals": sum(c for c, _ in reached), "value": sum((a for _, a in reached), ZERO)})
    won = [(c, a) for _pos, kind, c, a in groups if kind == "won"]
    lost = [(c, a) for _pos, kind, c, a in groups if kind == "lost"]
    rows.append({"stage": "Won", "deals": sum(c for c, _ in won), "value": sum((a for _, a in won), ZERO)})
    for row, following in zip(rows, rows[1:] + [None], strict=True):
        row["to_next"] = ratio(following["deals"], row["deals"]) if following else None
        row["to_next_value"] = ratio(following["value"], row["value"]) if following else None
        row["of_first"] = ratio(row["deals"], rows[0]["deals"])
    won_count, lost_count = sum(c for c, _ in won), sum(c for c, _ in lost)
    won_value, lost_value = sum((a for _, a in won), ZERO), sum((a for _, a in lost), ZERO)
    table = Table("stages", "Stage-to-stage conversion", [
        Column("stage", "Stage"), Column("deals", "Deals reached", "count"), Column("value", "Value reached", "money"),
        Column("to_next", "To next stage", "percent"), Column("to_next_value", "To next (value)", "percent"),
        Column("of_first", "Of all created", "percent"),
    ], rows)
    chart = Chart("bar", [r["stage"] for r in rows], [{"label": "Deals reached", "data": [r["deals"] for r in rows]}])
    headline = [
        {"label": "Deals created", "value": rows[0]["deals"] if open_stages else 0, "kind": "count"},
        {"label": "Win rate", "value": ratio(won_count, won_count + lost_count), "kind": "percent"},
        {"label": "Win rate by value", "value": ratio(won_value, won_value + lost_value), "kind": "percent"},
    ]
    return Report("funnel", "Conversion funnel and win rate", [table], chart, headline)


def velocity(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Sales velocity = open deals × win rate × average won deal / average cycle (days),
    per owner and overall; closed deals are those closed in the range."""
    stage_rows = sql.stages(session, flt.pipeline_id)
    conditions = deal_conditions(Deal, flt, actor)
    parts: dict[Any, dict[str, Any]] = defaultdict(lambda: {"open": 0, "won": 0, "lost": 0, "won_value": ZERO, "cycle_days": 0.0})
    open_stmt = (
        select(Deal.owner_id, func.count())
        .where(Deal.stage_id.in_(_ids(stage_rows, "open")), Deal.created_at < flt.until, *conditions)
        .group_by(Deal.owner_id)
    )
    for owner_id, count in session.execute(open_stmt):
        parts[owner_id]["open"] = count
    cycle = sql.days_expr(session, Deal.created_at, Deal.closed_at)
    for kind in ("won", "lost"):
        stmt = (
            select(Deal.owner_id, func.count(), func.sum(Deal.amount), func.sum(cycle))
            .where(Deal.stage_id.in_(_ids(stage_rows, kind)), *in_range(Deal.closed_at, flt), *conditions)
            .group_by(Deal.owner_id)
        )
        for owner_id, count, amount, days in session.execute(stmt):
            parts[owner_id][kind] = count
            if kind == "won":
                parts[owner_id]["won_value"], parts[owner_id]["cycle_days"] = Decimal(amount or 0), float(days or 0)
    names = sql.user_names(session, set(parts))
    rows = sorted((_velocity_row(names.get(owner_id, "—"), p) for owner_id, p in parts.items()), key=lambda r: r["owner"])
    overall = {key: sum((p[key] for p in parts.values()), ZERO if key == "won_value" else 0) for key in
               ("open", "won", "lost", "won_value", "cycle_days")}
    everyone = _velocity_row("All owners", overall)
    table = Table("owners", "Sales velocity and its parts", [
        Column("owner", "Owner"), Column("open_deals", "Open deals", "count"), Column("win_rate", "Win rate", "percent"),
        Column("average_won", "Average won deal", "money"), Column("cycle_days", "Sales cycle", "days"),
        Column("velocity_per_day", "Velocity per day", "money"),
    ], [*rows, everyone])
    chart = Chart("bar", [r["owner"] for r in rows], [{"label": "Velocity per day", "data": [r["velocity_per_day"] or 0 for r in rows]}])
    headline = [{"label": "Velocity per day", "value": everyone["velocity_per_day"], "kind": "money"},
                {"label": "Win rate", "value": everyone["win_rate"], "kind": "percent"},
                {"label": "Sales cycle", "value": everyone["cycle_days"], "kind": "days"}]
    return Report("velocity", "Sales velocity", [table], chart, headline)


def _velocity_row(owner: str, p: dict[str, Any]) -> dict[str, Any]:
    win_rate = ratio(p["won"], p["won"] + p["lost"])
    average_won = (p["won_value"] / p["won"]).quantize(Decimal("0.01")) if p["won"] else None
    cycle = p["cycle_days"] / p["won"] if p["won"] else None
    speed = None
    if win_rate is not None and average_won is not None and cycle:
        speed = (Decimal(p["open"]) * Decimal(str(win_rate)) * average_won / Decimal(str(cycle))).quantize(Decimal("0.01"))
    return {"owner": owner, "open_deals": p["open"], "win_rate": win_rate, "average_won": average_won,
            "cycle_days": cycle, "velocity_per_day": speed}
