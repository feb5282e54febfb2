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
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Float, Integer, and_, cast, delete, func, insert, literal, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session

from pipewise.analytics import sql
from pipewise.analytics.filters import ReportFilter, owner_conditions
from pipewise.analytics.models import EVERY_SOURCE, ReportDealDay, ReportStaleDay
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealStageChange, Stage
from pipewise.leads.models import Lead

CREATED, CLOSED = "created", "closed"
# More changed days than this in one read or one refresh: read the deals of the whole
# range, or compute every day again (cheaper than hundreds of one-day look-ups).
MANY_DAYS = 60
# Two refreshes on PostgreSQL take turns (a day's rows are deleted, then inserted again).
REFRESH_LOCK = 0x5265_706F  # "Repo"
SUMMED = ("pipeline_id", "owner_id", "stage_id", "furthest", "source", "day")


@dataclass
class Sums:
    deals: int = 0
    amount: Decimal = Decimal("0")
    cycle_days: float = 0.0


def utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp, computed by the database."""
    if sql.is_postgres(session):
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return type_coerce(func.date(column), Date)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _deal_rows(session: Session, basis: str, *, days: Sequence[date] | None = None,
               since: date | None = None, end: date | None = None) -> Any:
    """One row per deal and per source of its converted leads (plus one with no source),
    with the columns of ``report_deal_day``: the deals a day's sums are made of."""
    when = Deal.created_at if basis == CREATED else Deal.closed_at
    where: list[Any] = [when.is_not(None)]
    if days is not None:
        where.append(or_(*(and_(when >= _start(d), when < _start(d + timedelta(days=1))) for d in days)))
    if since is not None:
        where.append(when >= _start(since))
    if end is not None:
        where.append(when < _start(end + timedelta(days=1)))
    if basis == CREATED:
        furthest = func.coalesce(
            select(func.max(Stage.position)).join(DealStageChange, DealStageChange.to_stage_id == Stage.id)
            .where(DealStageChange.deal_id == Deal.id, Stage.kind == "open").scalar_subquery(), 0)
        cycle: Any = literal(0.0, Float)
    else:
        furthest = literal(0, Integer)
        cycle = sql.days_expr(session, Deal.created_at, Deal.closed_at)
    columns = [utc_day(session, when).label("day"), Deal.pipeline_id, Deal.owner_id, Deal.stage_id, furthest.label("furthest"),
               literal(1, Integer).label("deals"), Deal.amount, cycle.label("cycle_days")]
    sources = (select(Lead.converted_deal_id.label("deal_id"), Lead.source)
               .where(Lead.converted_deal_id.is_not(None), Lead.source.is_not(None)).distinct().subquery())
    every = select(*columns, literal(EVERY_SOURCE).label("source")).where(*where)
    sourced = select(*columns, sources.c.source).join(sources, sources.c.deal_id == Deal.id).where(*where)
    return every.union_all(sourced).subquery()


def _summed(rows: Any, by: Sequence[str], where: Iterable[Any], *, head: Sequence[Any] = ()) -> Any:
    c = rows.c
    keys = [c[name] for name in by]
    return select(*head, *keys, func.sum(c.deals), func.sum(c.amount), func.sum(c.cycle_days)).where(*where).group_by(*keys)


def stale_days(session: Session) -> set[date | None]:
    """The days whose stored sums a write changed; None among them: every day."""
    return set(session.scalars(select(ReportStaleDay.day).distinct()))


def deal_sums(
    session: Session, basis: str, flt: ReportFilter, actor: Actor, *, by: Sequence[str], since: date | None, end: date,
    stage_ids: Sequence[uuid.UUID] | None = None, pipeline_id: uuid.UUID | None = None,
) -> dict[tuple[Any, ...], Sums]:
    """Deals created (or closed) from ``since`` (None: ever) to ``end`` inclusive, within
    the filter and the actor's rights, summed per the columns named in ``by``."""
    pipeline_id = pipeline_id or flt.pipeline_id

    def conditions(rows: Any) -> list[Any]:
        c = rows.c
        found = [c.source == (flt.source or EVERY_SOURCE), c.day <= end, *owner_conditions(c.owner_id, flt, actor)]
        if since is not None:
            found.append(c.day >= since)
        if pipeline_id is not None:
            found.append(c.pipeline_id == pipeline_id)
        if stage_ids is not None:
            found.append(c.stage_id.in_(stage_ids))
        return found

    out: dict[tuple[Any, ...], Sums] = defaultdict(Sums)

    def add(stmt: Any) -> None:
        for *key, deals, amount, cycle_days in session.execute(stmt):
            sums = out[tuple(key)]
            sums.deals += int(deals or 0)
            sums.amount += Decimal(amount or 0)
            sums.cycle_days += float(cycle_days or 0)

    stale = stale_days(session)
    changed = sorted(d for d in stale if d is not None and d <= end and (since is None or d >= since))
    if None in stale or len(changed) > MANY_DAYS:
        rows = _deal_rows(session, basis, since=since, end=end)
        add(_summed(rows, by, conditions(rows)))
        return out
    stored = ReportDealDay.__table__
    kept = [stored.c.basis == basis, *conditions(stored)]
    if changed:
        kept.append(stored.c.day.not_in(changed))
        rows = _deal_rows(session, basis, days=changed)
        add(_summed(rows, by, conditions(rows)))
    add(_summed(stored, by, kept))
    return out


def _store(session: Session, days: Sequence[date] | None) -> None:
    for basis in (CREATED, CLOSED):
        rows = _deal_rows(session, basis, days=days)
        names = ["basis", *SUMMED, "deals", "amount", "cycle_days"]
        session.execute(insert(ReportDealDay).from_select(names, _summed(rows, SUMMED, [], head=[literal(basis)])))


def refresh(session: Session) -> int:
    """Compute the sums of the days writes changed again; returns how many days (0: none)."""
    if sql.is_postgres(session):
        session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))
    days = stale_days(session)
    if not days:
        return 0
    if None in days or len(days) > MANY_DAYS:
        session.execute(delete(ReportStaleDay))
        session.execute(delete(ReportDealDay))
        _store(session, None)
        return len(days)
    ordered = sorted(d for d in days if d is not None)
    for start in range(0, len(ordered), MANY_DAYS):
        chunk = ordered[start:start + MANY_DAYS]
        session.execute(delete(ReportStaleDay).where(ReportStaleDay.day.in_(chunk)))
        session.execute(delete(ReportDealDay).where(ReportDealDay.day.in_(chunk)))
        _store(session, chunk)
    return len(days)
