"""Reports on what people do and where leads come from: activities per rep and per deal
outcome, speed to lead by source and rep, and lead source → revenue by first touch
(definitions: docs/reports.md)."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session

from pipewise.analytics import activity_sums, lead_sums, sql
from pipewise.analytics.activity_sums import ActivitySums
from pipewise.analytics.filters import ReportFilter, in_range, visible_deal_conditions, visible_owner_conditions
from pipewise.analytics.results import Chart, Column, Report, Table, quantile, ratio
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Activity
from pipewise.deals.models import Deal, Stage
from pipewise.leads.models import Lead

ACTIVITY_TYPES = ("call", "email", "meeting", "note")
OUTCOMES = ("open", "won", "lost")
NO_SOURCE = "(none)"


def _activity_conditions(session: Session, flt: ReportFilter, actor: Actor) -> list[Any]:
    conditions = [*visible_owner_conditions(session, Activity.owner_id, flt, actor), *in_range(Activity.occurred_at, flt)]
    if flt.pipeline_id is not None or flt.source is not None:
        conditions.append(Activity.deal_id.in_(select(Deal.id).where(*visible_deal_conditions(session, Deal, flt, actor))))
    return conditions


def _counted_from_activities(session: Session, flt: ReportFilter, actor: Actor) -> ActivitySums:
    """The report's counts from the activities themselves (when the per-day sums cannot
    answer): one pass for the people, one over the activities joined to their deals."""
    conditions = _activity_conditions(session, flt, actor)
    out = ActivitySums()
    for owner_id, kind, count in session.execute(
        select(Activity.owner_id, Activity.type, func.count()).where(*conditions).group_by(Activity.owner_id, Activity.type)
    ):
        out.per_owner[(owner_id, kind)] += count
    # One pass over the activities joined to their deals (the join is most of the cost):
    # each type counted apart, and the deals once each.
    stmt = (
        select(Stage.kind, *(func.count(case((Activity.type == t, 1))) for t in ACTIVITY_TYPES),
               func.count(func.distinct(Activity.deal_id)))
        .select_from(Activity).join(Deal, Deal.id == Activity.deal_id).join(Stage, Stage.id == Deal.stage_id)
        .where(*conditions, *visible_deal_conditions(session, Deal, flt, actor)).group_by(Stage.kind)
    )
    for outcome, *counts, deals in session.execute(stmt):
        out.per_outcome.update({(outcome, t): count for t, count in zip(ACTIVITY_TYPES, counts, strict=True)})
        out.deals[outcome] = deals
    return out


def activities(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Activities that happened in the range, per owner and type; and those logged on
    deals, per the deal's outcome (open, won, lost)."""
    counted = activity_sums.read(session, flt, actor) or _counted_from_activities(session, flt, actor)
    per_rep: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ACTIVITY_TYPES, 0))
    for (owner_id, kind), count in counted.per_owner.items():
        per_rep[owner_id][kind] = per_rep[owner_id].get(kind, 0) + count
    names = sql.user_names(session, set(per_rep))
    rep_rows = sorted(({"owner": names.get(o, "—"), **counts, "total": sum(counts.values())} for o, counts in per_rep.items()),
                      key=lambda r: (-r["total"], r["owner"]))
    per_outcome: dict[str, dict[str, Any]] = {k: {"outcome": k.title(), **dict.fromkeys(ACTIVITY_TYPES, 0)} for k in OUTCOMES}
    for (outcome, kind), count in counted.per_outcome.items():
        if kind in ACTIVITY_TYPES:
            per_outcome[outcome][kind] += count
    outcome_rows = []
    for outcome, row in per_outcome.items():
        row["total"] = sum(row[t] for t in ACTIVITY_TYPES)
        row["deals"] = counted.deals.get(outcome, 0)
        row["per_deal"] = ratio(row["total"], row["deals"])
        outcome_rows.append(row)
    type_columns = [Column(t, f"{t.title()}s", "count") for t in ACTIVITY_TYPES]
    reps = Table("reps", "Activities per rep", [Column("owner", "Rep"), *type_columns, Column("total", "Total", "count")], rep_rows)
    outcomes = Table("outcomes", "Activities per deal outcome", [
        Column("outcome", "Deal outcome"), *type_columns, Column("total", "Total", "count"), Column("deals", "Deals", "count"),
        Column("per_deal", "Per deal", "number"),
    ], outcome_rows)
    chart = Chart("bar", [r["owner"] for r in rep_rows], [
        {"label": f"{t.title()}s", "data": [r[t] for r in rep_rows]} for t in ACTIVITY_TYPES
    ], stacked=True)
    headline = [{"label": "Activities", "value": sum(r["total"] for r in rep_rows), "kind": "count"}]
    return Report("activities", "Activities per rep and outcome", [reps, outcomes], chart, headline)


def lead_conditions(session: Session, flt: ReportFilter, actor: Actor) -> list[Any]:
    conditions = [*visible_owner_conditions(session, Lead.owner_id, flt, actor), *in_range(Lead.created_at, flt)]
    if flt.source is not None:
        conditions.append(Lead.source == flt.source)
    return conditions


def touch_minutes(session: Session, flt: ReportFilter, actor: Actor) -> list[tuple[str | None, Any, int, list[float]]]:
    """(source, owner id, leads, minutes to first touch of each touched one) of the leads
    created in the range, per source and owner. The first touch is the one routing
    recorded, else the lead's first activity by a person. The database computes the
    minutes and hands them over a group at a time, as text (a lead at a time, its times
    parsed in Python, cost more than the query)."""
    first_activity = (
        select(func.min(Activity.occurred_at))
        .where(Activity.lead_id == Lead.id, Activity.automated.is_(False))
        .scalar_subquery()
    )
    minutes = sql.days_expr(session, Lead.created_at, func.coalesce(Lead.first_touched_at, first_activity)) * 1440
    stmt = (
        select(Lead.source, Lead.owner_id, func.count(), func.aggregate_strings(cast(minutes, String), ","))
        .where(*lead_conditions(session, flt, actor)).group_by(Lead.source, Lead.owner_id)
    )
    return [(source, owner_id, leads, [max(0.0, float(m)) for m in (listed.split(",") if listed else ())])
            for source, owner_id, leads, listed in session.execute(stmt)]


def speed_to_lead(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    touches = touch_minutes(session, flt, actor)
    names = sql.user_names(session, {owner for _s, owner, _l, _m in touches})

    def table(key: str, title: str, label: str, group: Any) -> Table:
        leads: dict[str, int] = defaultdict(int)
        touched: dict[str, list[float]] = defaultdict(list)
        for source, owner_id, count, minutes in touches:
            leads[group(source, owner_id)] += count
            touched[group(source, owner_id)].extend(minutes)
        for values in touched.values():
            values.sort()  # once: the two quantiles' sorts are then a pass each
        rows = [{key: name, "leads": leads[name], "touched": len(touched[name]),
                 "median_minutes": quantile(touched[name], 0.5), "p90_minutes": quantile(touched[name], 0.9)} for name in sorted(leads)]
        return Table(key + "s", title, [
            Column(key, label), Column("leads", "Leads", "count"), Column("touched", "Touched", "count"),
            Column("median_minutes", "Median", "minutes"), Column("p90_minutes", "90th percentile", "minutes"),
        ], rows)

    by_source = table("source", "Speed to lead by source", "Source", lambda source, _owner: source or NO_SOURCE)
    by_rep = table("rep", "Speed to lead by rep", "Rep", lambda _source, owner: names.get(owner, "—"))
    every = sorted(m for _s, _o, _l, minutes in touches for m in minutes)
    chart = Chart("bar", [r["source"] for r in by_source.rows], [
        {"label": "Median minutes", "data": [r["median_minutes"] or 0 for r in by_source.rows]},
        {"label": "90th percentile", "data": [r["p90_minutes"] or 0 for r in by_source.rows]},
    ])
    headline = [{"label": "Median speed to lead", "value": quantile(every, 0.5), "kind": "minutes"},
                {"label": "90th percentile", "value": quantile(every, 0.9), "kind": "minutes"},
                {"label": "Not touched yet", "value": sum(leads for _s, _o, leads, _m in touches) - len(every), "kind": "count"}]
    return Report("speed-to-lead", "Speed to lead", [by_source, by_rep], chart, headline)


def lead_sources(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    """Leads created in the range by their first touch (source and the UTM fields captured
    with them), the deals they converted into, and those deals' pipeline and revenue."""
    rows = []
    for (source, u_source, u_campaign), (leads, deals, pipeline, won_deals, revenue) in lead_sums.by_touch(session, flt, actor).items():
        rows.append({"source": source or NO_SOURCE, "utm_source": u_source or "", "utm_campaign": u_campaign or "",
                     "leads": leads, "deals": deals, "conversion": ratio(deals, leads),
                     "pipeline_value": pipeline, "won_deals": won_deals, "revenue": revenue})
    rows.sort(key=lambda r: (-r["revenue"], r["source"], r["utm_source"], r["utm_campaign"]))
    by_source: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_source[row["source"]] += row["revenue"]
    table = Table("sources", "Lead source to revenue (first touch)", [
        Column("source", "Source"), Column("utm_source", "utm_source"), Column("utm_campaign", "utm_campaign"),
        Column("leads", "Leads", "count"), Column("deals", "Deals", "count"), Column("conversion", "Lead to deal", "percent"),
        Column("pipeline_value", "Open pipeline", "money"), Column("won_deals", "Won", "count"), Column("revenue", "Revenue", "money"),
    ], rows)
    labels = sorted(by_source, key=lambda s: -by_source[s])
    chart = Chart("bar", labels, [{"label": "Revenue", "data": [by_source[s] for s in labels]}])
    headline = [{"label": "Leads", "value": sum(r["leads"] for r in rows), "kind": "count"},
                {"label": "Revenue", "value": sum((r["revenue"] for r in rows), Decimal("0")), "kind": "money"}]
    return Report("lead-sources", "Lead source to revenue", [table], chart, headline)
