"""The per-day sums of deals (analytics/models.py): what a day's sums are, keeping them
current, and reading them exactly.

A report reads the stored sums of the days no write has changed since they were
computed, and computes the days the triggers noted (``report_stale_day``) from the deals
themselves, in the same way ``refresh`` will store them. The worker refreshes within a
minute of a deal's change; until then a report pays only for the changed days."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Float, Integer, delete, func, insert, literal, select, text
from sqlalchemy.orm import Session

from pipewise.analytics import activity_sums, durations, lead_sums, sql
from pipewise.analytics.days import (
    DAY, MANY_DAYS, MONTH, changed_in, month_of, months_between, next_month, stale_days, stored_parts, utc_day, within,
)
from pipewise.analytics.filters import ReportFilter, visible_owner_conditions
from pipewise.analytics.models import EVERY_SOURCE, ReportActivityDay, ReportDealDay, ReportDurationDay, ReportLeadDay, ReportStaleDay
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealStageChange, Stage
from pipewise.leads.models import Lead

# Deals by the day they were created, closed, or are expected to close (their close date).
CREATED, CLOSED, DUE = "created", "closed", "due"
# Two refreshes on PostgreSQL take turns (a day's rows are deleted, then inserted again).
REFRESH_LOCK = 0x5265_706F  # "Repo"
SUMMED = ("pipeline_id", "owner_id", "stage_id", "furthest", "source", "day")


@dataclass
class Sums:
    deals: int = 0
    amount: Decimal = Decimal("0")
    cycle_days: float = 0.0
    moment_days: float = 0.0  # the deals' creation (closing) moments, as days since 1970, added up


def _deal_rows(session: Session, basis: str, *, days: Sequence[date] | None = None,
               since: date | None = None, end: date | None = None, furthest_too: bool = True) -> Any:
    """One row per deal and per source of its converted leads (plus one with no source),
    with the columns of ``report_deal_day``: the deals a day's sums are made of."""
    if basis == DUE:  # a day already, the expected close date
        day = Deal.close_date
        where: list[Any] = [day.is_not(None), *([] if days is None else [day.in_(days)]),
                            *([] if since is None else [day >= since]), *([] if end is None else [day <= end])]
    else:
        when = Deal.created_at if basis == CREATED else Deal.closed_at
        day = utc_day(session, when)
        where = [when.is_not(None), *within(when, days=days, since=since, end=end)]
    if basis == CREATED and furthest_too:  # one look-up of the stage history per deal
        furthest = func.coalesce(
            select(func.max(Stage.position)).join(DealStageChange, DealStageChange.to_stage_id == Stage.id)
            .where(DealStageChange.deal_id == Deal.id, Stage.kind == "open").scalar_subquery(), 0)
    else:
        furthest = literal(0, Integer)
    cycle = sql.days_expr(session, Deal.created_at, Deal.closed_at) if basis == CLOSED else literal(0.0, Float)
    moment = literal(0.0, Float) if basis == DUE else sql.epoch_days(session, when)
    columns = [day.label("day"), Deal.pipeline_id, Deal.owner_id, Deal.stage_id, furthest.label("furthest"),
               literal(1, Integer).label("deals"), Deal.amount, cycle.label("cycle_days"), moment.label("moment_days")]
    # The sources of these deals' leads only (by the lead's deal index), not of every lead.
    sources = (select(Lead.converted_deal_id.label("deal_id"), Lead.source)
               .where(Lead.converted_deal_id.in_(select(Deal.id).where(*where)), Lead.source.is_not(None)).distinct().subquery())
    every = select(*columns, literal(EVERY_SOURCE).label("source")).where(*where)
    sourced = select(*columns, sources.c.source).join(sources, sources.c.deal_id == Deal.id).where(*where)
    return every.union_all(sourced).subquery()


def _summed(rows: Any, by: Sequence[str], where: Iterable[Any], *, head: Sequence[Any] = ()) -> Any:
    c = rows.c
    keys = [c[name] for name in by]
    return (select(*head, *keys, func.sum(c.deals), func.sum(c.amount), func.sum(c.cycle_days), func.sum(c.moment_days))
            .where(*where).group_by(*keys))


def deal_sums(
    session: Session, basis: str, flt: ReportFilter, actor: Actor, *, by: Sequence[str], since: date | None, end: date,
    stage_ids: Sequence[uuid.UUID] | None = None, pipeline_id: uuid.UUID | None = None,
) -> dict[tuple[Any, ...], Sums]:
    """Deals created (closed, due) from ``since`` (None: ever) to ``end`` inclusive, within
    the filter and the actor's rights, summed per the columns named in ``by``."""
    pipeline_id = pipeline_id or flt.pipeline_id

    def conditions(c: Any) -> list[Any]:
        found = [c.source == (flt.source or EVERY_SOURCE), *visible_owner_conditions(session, c.owner_id, flt, actor)]
        if pipeline_id is not None:
            found.append(c.pipeline_id == pipeline_id)
        if stage_ids is not None:
            found.append(c.stage_id.in_(stage_ids))
        return found

    out: dict[tuple[Any, ...], Sums] = defaultdict(Sums)

    def add(stmt: Any) -> None:
        for *key, deals, amount, cycle_days, moment_days in session.execute(stmt):
            sums = out[tuple(key)]
            sums.deals += int(deals or 0)
            sums.amount += Decimal(amount or 0)
            sums.cycle_days += float(cycle_days or 0)
            sums.moment_days += float(moment_days or 0)

    changed = changed_in(stale_days(session), since, end)
    if changed is None:
        rows = _deal_rows(session, basis, since=since, end=end, furthest_too="furthest" in by)
        add(_summed(rows, by, conditions(rows.c)))
        return out
    if changed:
        rows = _deal_rows(session, basis, days=changed, furthest_too="furthest" in by)
        add(_summed(rows, by, conditions(rows.c)))
    stored = ReportDealDay.__table__
    # Every month row adds up day rows that are kept: the first day row is the first day (and
    # the index finds it at once, where it read every grain's rows for the smallest).
    first = since or session.scalar(select(func.min(stored.c.day)).where(
        stored.c.basis == basis, stored.c.source == EVERY_SOURCE, stored.c.grain == DAY))
    if first is not None:
        # Rows by day for a report by week: a month's row cannot be split into its weeks.
        by_week = "day" in by and flt.interval == "week"
        for part in stored_parts(stored.c, first, end, changed, months_too=not by_week):
            add(_summed(stored, by, [stored.c.basis == basis, *conditions(stored.c), part]))
    return out


def _store(session: Session, days: Sequence[date] | None) -> None:
    for basis in (CREATED, CLOSED, DUE):
        rows = _deal_rows(session, basis, days=days)
        names = ["basis", "grain", *SUMMED, "deals", "amount", "cycle_days", "moment_days"]
        session.execute(insert(ReportDealDay).from_select(names, _summed(rows, SUMMED, [], head=[literal(basis), literal(DAY)])))


def _store_months(session: Session, months: Iterable[date]) -> None:
    """Month rows: the month's day rows added up."""
    t = ReportDealDay.__table__
    keys = [t.c.basis, t.c.pipeline_id, t.c.owner_id, t.c.stage_id, t.c.furthest, t.c.source]
    names = ["grain", "day", *(k.name for k in keys), "deals", "amount", "cycle_days", "moment_days"]
    for month in months:
        session.execute(delete(t).where(t.c.grain == MONTH, t.c.day == month))
        summed = (select(literal(MONTH), literal(month, Date), *keys, func.sum(t.c.deals), func.sum(t.c.amount), func.sum(t.c.cycle_days),
                         func.sum(t.c.moment_days))
                  .where(t.c.grain == DAY, t.c.day >= month, t.c.day < next_month(month)).group_by(*keys))
        session.execute(insert(t).from_select(names, summed))
    durations.store_months(session, months)
    activity_sums.store_months(session, months)
    lead_sums.store_months(session, months)


def refresh(session: Session, *, most: int | None = None) -> int:
    """Compute the sums of the days writes changed again, at most ``most`` of them (the
    most recent first: a transaction that holds SQLite's write lock stays short); returns
    how many days (0: none)."""
    if sql.is_postgres(session):
        session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))
    days = stale_days(session)
    if not days:
        return 0
    if None in days or len(days) > MANY_DAYS:
        session.execute(delete(ReportStaleDay))
        session.execute(delete(ReportDealDay))
        durations.forget(session, None)
        activity_sums.forget(session, None)
        lead_sums.forget(session, None)
        _store(session, None)
        durations.store(session, None)
        activity_sums.store(session, None)
        lead_sums.store(session, None)
        bounds = [session.execute(select(func.min(t.day), func.max(t.day))).one()
                  for t in (ReportDealDay, ReportActivityDay, ReportLeadDay)]
        first, last = min((b[0] for b in bounds if b[0]), default=None), max((b[1] for b in bounds if b[1]), default=None)
        _store_months(session, months_between(first, last) if first and last else [])
        if not sql.is_postgres(session):  # the planner's statistics of the new rows (PostgreSQL's autovacuum sees to its own)
            for table in (ReportDealDay, ReportDurationDay, ReportActivityDay, ReportLeadDay):
                session.execute(text(f"ANALYZE {table.__tablename__}"))
        return len(days)
    chunk = sorted((d for d in days if d is not None), reverse=True)[:most]
    session.execute(delete(ReportStaleDay).where(ReportStaleDay.day.in_(chunk)))
    session.execute(delete(ReportDealDay).where(ReportDealDay.grain == DAY, ReportDealDay.day.in_(chunk)))
    durations.forget(session, chunk)
    activity_sums.forget(session, chunk)
    lead_sums.forget(session, chunk)
    _store(session, chunk)
    durations.store(session, chunk)
    activity_sums.store(session, chunk)
    lead_sums.store(session, chunk)
    _store_months(session, sorted({month_of(d) for d in chunk}))
    return len(chunk)
