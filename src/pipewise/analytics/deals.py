"""Deal reports: pipeline by stage, deals created / won / lost over time, the stage
funnel with win rate, and sales velocity with its parts (definitions: docs/reports.md)."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from pipewise.analytics import rollups, sql
from pipewise.analytics.filters import ReportFilter
from pipewise.analytics.periods import label_of, periods
from pipewise.analytics.results import Chart, Column, Report, Table, ratio
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Stage

ZERO = Decimal("0")


def _ids(stage_rows: list[Stage], kind: str) -> list[Any]:
    return [s.id for s in stage_rows if s.kind == kind]


def pipeline_value(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Open deals created in the range, per stage: count, value and value × probability."""
    stage_rows = sql.stages(session, flt.pipeline_id)
    pipelines = sql.pipeline_names(session)
    sums = rollups.deal_sums(session, rollups.CREATED, flt, actor, by=("stage_id",), since=flt.start, end=flt.end,
                             stage_ids=_ids(stage_rows, "open"))
    found = {stage_id: (s.deals, s.amount) for (stage_id,), s in sums.items()}
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
    series: dict[str, dict[str, Any]] = {p: {"period": p} for p in periods(flt)}

    def add(prefix: str, basis: str, stage_ids: list[Any] | None = None) -> None:
        sums = rollups.deal_sums(session, basis, flt, actor, by=("day",), since=flt.start, end=flt.end, stage_ids=stage_ids)
        for (day,), s in sums.items():
            label = label_of(day, flt.interval)
            row = series.setdefault(label, {"period": label})
            row[prefix] = row.get(prefix, 0) + s.deals
            row[f"{prefix}_value"] = row.get(f"{prefix}_value", ZERO) + s.amount

    add("created", rollups.CREATED)
    add("won", rollups.CLOSED, _ids(stage_rows, "won"))
    add("lost", rollups.CLOSED, _ids(stage_rows, "lost"))
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
    sums = rollups.deal_sums(session, rollups.CREATED, flt, actor, by=("furthest", "stage_id"), since=flt.start, end=flt.end,
                             pipeline_id=pipeline_id) if pipeline_id else {}
    groups = [(pos, kind_of.get(stage_id, "open"), s.deals, s.amount) for (pos, stage_id), s in sums.items()]
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
    parts: dict[Any, dict[str, Any]] = defaultdict(lambda: {"open": 0, "won": 0, "lost": 0, "won_value": ZERO, "cycle_days": 0.0})
    open_deals = rollups.deal_sums(session, rollups.CREATED, flt, actor, by=("owner_id",), since=None, end=flt.end,
                                   stage_ids=_ids(stage_rows, "open"))
    for (owner_id,), s in open_deals.items():
        parts[owner_id]["open"] = s.deals
    for kind in ("won", "lost"):
        closed = rollups.deal_sums(session, rollups.CLOSED, flt, actor, by=("owner_id",), since=flt.start, end=flt.end,
                                   stage_ids=_ids(stage_rows, kind))
        for (owner_id,), s in closed.items():
            parts[owner_id][kind] = s.deals
            if kind == "won":
                parts[owner_id]["won_value"], parts[owner_id]["cycle_days"] = s.amount, s.cycle_days
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
