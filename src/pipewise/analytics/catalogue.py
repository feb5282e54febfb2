"""The reports, by the address they answer at, and running one with a filter."""

import gc
import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pipewise.analytics import automation, days, deals, people, sql, timing
from pipewise.analytics.filters import ReportFilter, parse_filter
from pipewise.analytics.results import Report, as_dict, plain
from pipewise.auth.visibility import Actor
from pipewise.errors import NotFound, ValidationFailed
from pipewise.records import csv_cells


@dataclass(frozen=True)
class ReportKind:
    slug: str
    title: str
    summary: str
    run: Callable[[Session, ReportFilter, Actor], Report]


REPORTS: dict[str, ReportKind] = {r.slug: r for r in (
    ReportKind("pipeline", "Pipeline value by stage", "Open deals, their value and weighted value per stage.", deals.pipeline_value),
    ReportKind("deal-flow", "Deals created, won and lost", "Per week or month, in count and value.", deals.deal_flow),
    ReportKind("funnel", "Conversion funnel and win rate", "How many deals reach each stage, and how many are won.", deals.funnel),
    ReportKind("velocity", "Sales velocity", "Open deals × win rate × average deal ÷ cycle length, per owner.", deals.velocity),
    ReportKind("stage-time", "Time in stage and sales cycle", "Median and 90th percentile days per stage, slippage, cycle length.",
               timing.stage_times),
    ReportKind("activities", "Activities", "Calls, e-mails, meetings and notes per rep and per deal outcome.", people.activities),
    ReportKind("speed-to-lead", "Speed to lead", "Time from a lead's arrival to its first touch, by source and rep.", people.speed_to_lead),
    ReportKind("lead-sources", "Lead source to revenue", "Leads by first touch (source, UTM) and the revenue they became.",
               people.lead_sources),
    ReportKind("sequences", "Sequence performance", "Sent → opened → replied → meeting → deal, per step and variant.",
               automation.sequences),
    ReportKind("workflows", "Workflow performance", "Touches, e-mails, meetings and deals per workflow step and version.",
               automation.workflows),
    ReportKind("automation", "Automation effect", "The five questions: speed, MQL → SQL, progression, cycle, revenue.",
               automation.automation_impact),
)}


def kind_of(slug: str) -> ReportKind:
    if slug not in REPORTS:
        raise NotFound(f"no report named {slug}")
    return REPORTS[slug]


_paused = 0
_was_enabled = True
_pause_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a report runs: a report makes hundreds of
    thousands of small objects, which reference counting frees, and the collector walked
    them (and all else alive) again and again, a fifth of a large report's time. As it was
    again when the last report running in the process is done."""
    global _paused, _was_enabled
    with _pause_lock:
        if not _paused:
            _was_enabled = gc.isenabled()
        _paused += 1
        gc.disable()
    try:
        yield
    finally:
        with _pause_lock:
            _paused -= 1
            if not _paused and _was_enabled:
                gc.enable()


def run(session: Session, slug: str, params: dict[str, Any], *, actor: Actor) -> tuple[ReportFilter, Report]:
    kind = kind_of(slug)
    flt = parse_filter(params)
    sql.plan_for_the_values(session)
    with days.one_reading(session), collector_paused():
        return flt, kind.run(session, flt, actor)


def run_json(session: Session, slug: str, params: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
    flt, report = run(session, slug, params, actor=actor)
    return {**as_dict(report), "filter": flt.as_query()}


def csv_text(report: Report, table_key: str | None = None) -> str:
    """One table of the report as spreadsheet-safe CSV (a header row, then the rows)."""
    try:
        table = report.table(table_key)
    except KeyError:
        raise ValidationFailed.on("table", f"is one of {', '.join(t.key for t in report.tables)}") from None
    stream = io.StringIO()
    writer = csv_cells.writer(stream)
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if (value := plain(row.get(c.key))) is None else value for c in table.columns])
    return stream.getvalue()


def export(session: Session, slug: str, params: dict[str, Any], *, actor: Actor) -> tuple[str, str]:
    """(file name, CSV text) of one table of a report."""
    _flt, report = run(session, slug, params, actor=actor)
    table_key = params.get("table") or None
    text = csv_text(report, table_key)
    return f"{slug}-{report.table(table_key).key}.csv", text
