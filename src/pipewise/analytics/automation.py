"""Sequence and workflow performance (sent → opened → replied → meeting → deal, per step
and variant, with a trend) and the five automation questions per sequence and workflow
(definitions: docs/reports.md)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from pipewise.analytics import durations, rollups, sql
from pipewise.analytics.exposure import (
    DealFacts,
    Exposure,
    deals_around,
    interactions,
    lifecycle_changes,
    meetings_of,
    sequence_exposures,
    workflow_exposures,
)
from pipewise.analytics.filters import ReportFilter
from pipewise.analytics.periods import label_of
from pipewise.analytics.results import APPROXIMATE, Chart, Column, Report, Table, days_between, quantile, ratio, total
from pipewise.auth.visibility import Actor
from pipewise.sequences.metrics import ATTRIBUTION_WINDOW, CreatedDeal, Touch, attribute

PROGRESSION_WINDOW = timedelta(days=30)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MQL, SQL_OR_LATER = "mql", ("sql", "opportunity", "customer")


def _created(deals: list[DealFacts]) -> list[CreatedDeal]:
    return [CreatedDeal(d.id, d.account_id, d.created_at, d.contact_ids) for d in deals]


def credited_meetings(exposures: list[Exposure], meetings: dict[Any, list[datetime]]) -> dict[Any, int]:
    """touch key -> meetings credited to it: each meeting with a touched contact, within
    the window after a touch, goes to the latest touch before it."""
    counts: dict[Any, int] = defaultdict(int)
    touches_of: dict[Any, list[Touch]] = defaultdict(list)
    for exposure in exposures:
        for touch in exposure.touches:
            if touch.contact_id:
                touches_of[touch.contact_id].append(touch)
    for contact_id, times in meetings.items():
        for at in times:
            eligible = [t for t in touches_of.get(contact_id, []) if t.at <= at <= t.at + ATTRIBUTION_WINDOW]
            if eligible:
                counts[max(eligible, key=lambda t: (t.at, str(t.key))).key] += 1
    return counts


def performance(session: Session, flt: ReportFilter, actor: Actor, *, kind: str) -> Report:
    exposures = (sequence_exposures if kind == "sequence" else workflow_exposures)(session, flt, actor)
    touches = [t for e in exposures for t in e.touches]
    deals = deals_around(session, flt, actor, exposures)
    credited = attribute(touches, _created(deals))
    meetings = credited_meetings(exposures, meetings_of(session, exposures))
    steps: dict[Any, dict[str, Any]] = {}
    trend: dict[str, dict[str, Any]] = {}
    for exposure in exposures:
        for mail in exposure.mail:
            automation, step, variant = mail["key"]
            row = steps.setdefault(mail["key"], {"automation": automation, "step": step, "variant": variant, "touches": 0,
                                                 "sent": 0, "opened": 0, "replied": 0, "meetings": 0, "deals": 0})
            period = trend.setdefault(label_of(mail["at"].date(), flt.interval),
                                      {"period": label_of(mail["at"].date(), flt.interval), "touches": 0, "sent": 0, "opened": 0, "replied": 0})
            for target in (row, period):
                target["touches"] += 1
                if not mail.get("acted_only"):
                    target["sent"] += 1
                    target["opened"] += mail["opened"]
                    target["replied"] += mail["replied"]
    for key, count in meetings.items():
        if key in steps:
            steps[key]["meetings"] += count
    for touch in credited.values():
        if touch.key in steps:
            steps[touch.key]["deals"] += 1
    rows = [steps[k] for k in sorted(steps)]
    for row in rows:
        row["open_rate"], row["reply_rate"] = ratio(row["opened"], row["sent"]), ratio(row["replied"], row["sent"])
    label = "Sequence" if kind == "sequence" else "Workflow"
    step_table = Table("steps", f"{label} performance per step and variant", [
        Column("automation", label), Column("step", "Step"), Column("variant", "Variant" if kind == "sequence" else "Version"),
        Column("touches", "Touches", "count"), Column("sent", "Sent", "count"), Column("opened", "Opened", "count"),
        Column("replied", "Replied", "count"), Column("meetings", "Meetings", "count"), Column("deals", "Deals", "count"),
        Column("open_rate", "Open rate", "percent"), Column("reply_rate", "Reply rate", "percent"),
    ], rows)
    trend_rows = [trend[p] for p in sorted(trend)]
    trend_table = Table("trend", "Trend", [
        Column("period", "Period"), Column("touches", "Touches", "count"), Column("sent", "Sent", "count"),
        Column("opened", "Opened", "count"), Column("replied", "Replied", "count"),
    ], trend_rows)
    chart = Chart("line", [r["period"] for r in trend_rows], [
        {"label": name.title(), "data": [r[name] for r in trend_rows]} for name in ("sent", "opened", "replied")
    ])
    headline = [{"label": "Enrolled", "value": len(exposures), "kind": "count"},
                {"label": "Sent", "value": sum(r["sent"] for r in rows), "kind": "count"},
                {"label": "Meetings", "value": sum(r["meetings"] for r in rows), "kind": "count"},
                {"label": "Deals", "value": len(credited), "kind": "count"}]
    slug = "sequences" if kind == "sequence" else "workflows"
    return Report(slug, f"{label} performance", [step_table, trend_table], chart, headline)


def sequences(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    return performance(session, flt, actor, kind="sequence")


def workflows(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    return performance(session, flt, actor, kind="workflow")


# -- the five questions ----------------------------------------------------------------------


def first_interaction_hours(exposure: Exposure, found: dict[Any, list[datetime]]) -> float | None:
    times = [at for link in ("contact", "lead", "deal", "account") if (ref := getattr(exposure, f"{link}_id"))
             for at in found.get((link, ref), []) if at >= exposure.enrolled_at]
    return (min(times) - exposure.enrolled_at).total_seconds() / 3600 if times else None


def mql_outcome(exposure: Exposure, history: dict[Any, list[Any]], current: dict[Any, str]) -> bool | None:
    """None: not an MQL when enrolled; else whether it became an SQL (or later) after."""
    key = (exposure.record_type, exposure.record_id)
    if key not in current:
        return None
    changes = history.get(key, [])
    before = [new for at, _old, new in changes if at <= exposure.enrolled_at]
    after = [(old, new) for at, old, new in changes if at > exposure.enrolled_at]
    stage_then = before[-1] if before else (after[0][0] if after else current[key])
    if stage_then != MQL:
        return None
    return any(new in SQL_OR_LATER for _old, new in after)


class DealLinks:
    """The deals around the exposures, by the deal, account and contact they link to (each
    exposure then looks up its own few instead of going through them all)."""

    def __init__(self, deals: list[DealFacts]) -> None:
        self.by_link: dict[tuple[str, Any], list[DealFacts]] = defaultdict(list)
        for deal in deals:
            self.by_link["deal", deal.id].append(deal)
            if deal.account_id:
                self.by_link["account", deal.account_id].append(deal)
            for contact_id in deal.contact_ids:
                self.by_link["contact", contact_id].append(deal)

    def of(self, exposure: Exposure) -> list[DealFacts]:
        found = {deal.id: deal for link in ("deal", "account", "contact") if (ref := getattr(exposure, f"{link}_id"))
                 for deal in self.by_link.get((link, ref), [])}
        return list(found.values())


def _touched_open(exposure: Exposure, links: DealLinks) -> list[DealFacts]:
    """The deals open when the exposure's first touch happened, at its account, with its
    contact, or the deal it enrolled."""
    if not exposure.touches:
        return []
    first = min(t.at for t in exposure.touches)
    return [d for d in links.of(exposure) if d.created_at <= first and (d.closed_at is None or d.closed_at > first)]


def progression(touched: list[tuple[Exposure, list[DealFacts]]], now: datetime) -> tuple[int, float]:
    """(stage advances, open deal-days) of touched deals (each exposure's ``_touched_open``)
    in the window after the exposure's first touch."""
    advances, exposure_days, seen = 0, 0.0, set()
    for exposure, deals in touched:
        if not deals:
            continue
        start = min(t.at for t in exposure.touches)
        for deal in deals:
            if deal.id in seen:
                continue
            seen.add(deal.id)
            end = min(start + PROGRESSION_WINDOW, deal.closed_at or now, now)
            advances += sum(1 for at in deal.advances if start <= at <= end)
            exposure_days += max(0.0, days_between(start, end))
    return advances, exposure_days


def baseline_progression(session: Session, flt: ReportFilter, actor: Actor) -> tuple[int, float]:
    """(stage advances, open deal-days) of all deals in the range the reader may see, from
    the per-day sums. A deal open during the range counts the days from its creation (or the
    range's start) to its close (or the range's end, or now), added up per group of deals:
    the closing moments of those closed in the range, less the creation moments of those
    created in it, and the range's start and end for the deals open across them."""
    moves, _approximate = durations.spreads(session, durations.MOVE, flt, actor)
    advances = sum(spread.count for spread in moves.values())
    before_start = flt.start - timedelta(days=1)

    def summed(basis: str, since: date | None, end: date) -> rollups.Sums:
        return rollups.deal_sums(session, basis, flt, actor, by=(), since=since, end=end).get((), rollups.Sums())

    created_before, closed_before = summed(rollups.CREATED, None, before_start), summed(rollups.CLOSED, None, before_start)
    created_in, closed_in = summed(rollups.CREATED, flt.start, flt.end), summed(rollups.CLOSED, flt.start, flt.end)
    open_at_start = created_before.deals - closed_before.deals
    open_at_end = open_at_start + created_in.deals - closed_in.deals
    start, end = _epoch_days(flt.since), _epoch_days(min(flt.until, datetime.now(UTC)))
    days = closed_in.moment_days + open_at_end * end - created_in.moment_days - open_at_start * start
    return advances, max(0.0, days)


def _epoch_days(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds() / 86400


@dataclass
class WonInRange:
    """The won deals closed in the range that the reader may see: the sales cycle (days) of
    the touched ones by id, every one's cycle, whether those are approximate (histograms,
    ``durations.spreads``), and their revenue."""

    cycle_days: dict[Any, float]
    cycles: durations.Spread
    approximate: bool
    revenue: Decimal

    @classmethod
    def none(cls) -> "WonInRange":
        """What no automation row asks for: nothing read."""
        return cls({}, durations.Spread(), False, Decimal("0"))


def won_in_range(session: Session, flt: ReportFilter, actor: Actor, touched: list[DealFacts]) -> WonInRange:
    """Read from the per-day sums and histograms; the ``touched`` deals' cycles from their facts."""
    won = [stage.id for stage in sql.stages(session, flt.pipeline_id) if stage.kind == "won"]
    spreads, approximate = durations.spreads(session, durations.CYCLE, flt, actor)
    cycle_days = {deal.id: days_between(deal.created_at, deal.closed_at) for deal in touched
                  if deal.kind == "won" and deal.counted and deal.closed_at and flt.since <= deal.closed_at < flt.until}
    summed = rollups.deal_sums(session, rollups.CLOSED, flt, actor, by=(), since=flt.start, end=flt.end, stage_ids=won)
    return WonInRange(cycle_days, durations.Spread.joined(spreads[i] for i in won if i in spreads), approximate,
                      summed.get((), rollups.Sums()).amount)


def automation_impact(session: Session, flt: ReportFilter, actor: Actor) -> Report:
    exposures = sequence_exposures(session, flt, actor) + workflow_exposures(session, flt, actor)
    deals = deals_around(session, flt, actor, exposures)
    found = interactions(session, exposures)
    history, current = lifecycle_changes(session, exposures)
    now = datetime.now(UTC)
    base_advances, base_days = baseline_progression(session, flt, actor)
    base_rate = ratio(base_advances * 30, base_days)
    groups: dict[str, list[Exposure]] = defaultdict(list)
    for exposure in exposures:
        groups[exposure.automation].append(exposure)
    credited_of = {name: attribute([t for e in items for t in e.touches], _created(deals)) for name, items in groups.items()}
    links = DealLinks(deals)
    open_at_touch = {name: [(e, _touched_open(e, links)) for e in items] for name, items in groups.items()}
    touched_of = {name: {d.id for _e, open_deals in open_at_touch[name] for d in open_deals} | set(credited_of[name])
                  for name in groups}
    by_id = {d.id: d for d in deals}
    won = won_in_range(session, flt, actor, [by_id[i] for i in set().union(*touched_of.values())]) if groups else WonInRange.none()
    rows = []
    for name in sorted(groups):
        items, credited, touched = groups[name], credited_of[name], touched_of[name]
        hours = [h for e in items if (h := first_interaction_hours(e, found)) is not None]
        mql = [o for e in items if (o := mql_outcome(e, history, current)) is not None]
        advances, deal_days = progression(open_at_touch[name], now)
        cycle_in = [won.cycle_days[i] for i in touched if i in won.cycle_days]
        cycle_out = won.cycles.without(cycle_in)
        attributed = [by_id[i] for i in credited]
        won_attributed = total(d.amount for d in attributed if d.id in won.cycle_days)
        rows.append({
            "automation": name, "enrolled": len(items), "touched": sum(1 for e in items if e.touches),
            "first_interaction_median_hours": quantile(hours, 0.5), "first_interaction_p90_hours": quantile(hours, 0.9),
            "reached_interaction": ratio(len(hours), len(items)),
            "mql_enrolled": len(mql), "mql_to_sql": ratio(sum(mql), len(mql)),
            "advances_per_30_days": ratio(advances * 30, deal_days), "baseline_advances_per_30_days": base_rate,
            "cycle_days": quantile(cycle_in, 0.5), "baseline_cycle_days": cycle_out.quantile(0.5),
            "cycle_change_days": None if not cycle_in or not cycle_out.count else quantile(cycle_in, 0.5) - cycle_out.quantile(0.5),
            "deals_created": len(attributed), "pipeline_value": total(d.amount for d in attributed if d.kind == "open"),
            "revenue": won_attributed, "revenue_share": ratio(won_attributed, won.revenue),
        })
    table = Table("automations", "The five automation questions", [
        Column("automation", "Sequence or workflow"), Column("enrolled", "Enrolled", "count"), Column("touched", "Touched", "count"),
        Column("first_interaction_median_hours", "First interaction, median", "hours"),
        Column("first_interaction_p90_hours", "First interaction, p90", "hours"),
        Column("reached_interaction", "Reached an interaction", "percent"),
        Column("mql_enrolled", "MQLs enrolled", "count"), Column("mql_to_sql", "MQL → SQL", "percent"),
        Column("advances_per_30_days", "Stage advances / 30 deal-days", "number"),
        Column("baseline_advances_per_30_days", "Baseline advances / 30 deal-days", "number"),
        Column("cycle_days", "Sales cycle (touched, median)", "days"), Column("baseline_cycle_days", "Sales cycle (others)", "days"),
        Column("cycle_change_days", "Cycle change", "days"),
        Column("deals_created", "Deals created", "count"), Column("pipeline_value", "Open pipeline", "money"),
        Column("revenue", "Closed revenue", "money"), Column("revenue_share", "Share of revenue", "percent"),
    ], rows)
    chart = Chart("bar", [r["automation"] for r in rows], [
        {"label": "Open pipeline", "data": [r["pipeline_value"] for r in rows]},
        {"label": "Closed revenue", "data": [r["revenue"] for r in rows]},
    ])
    headline = [{"label": "Automations", "value": len(rows), "kind": "count"},
                {"label": "Baseline advances / 30 deal-days", "value": base_rate, "kind": "number"}]
    return Report("automation", "Automation effect: the five questions", [table], chart, headline,
                  APPROXIMATE if won.approximate else None)
