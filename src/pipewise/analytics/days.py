"""Calendar days (UTC) as the per-day report sums count them, and the days a write changed
since the sums were computed (noted by the triggers of migrations 0044–0046)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, cast, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session

from pipewise.analytics import sql
from pipewise.analytics.models import ReportStaleDay

# More changed days than this in one read or one refresh: read the deals of the whole
# range, or compute every day again (cheaper than hundreds of one-day look-ups).
MANY_DAYS = 60
# Rows per day, and the same added up per calendar month (``day`` is then the 1st): a
# year's report reads twelve months of rows and the days at its two ends.
DAY, MONTH = "day", "month"


def utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp, computed by the database."""
    if sql.is_postgres(session):
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return type_coerce(func.date(column), Date)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def within(column: Any, *, days: Sequence[date] | None = None, since: date | None = None, end: date | None = None) -> list[Any]:
    """Conditions on a timestamp: on one of ``days``, from ``since``, up to ``end`` inclusive."""
    where: list[Any] = []
    if days is not None:
        where.append(or_(*(and_(column >= start_of(d), column < start_of(d + timedelta(days=1))) for d in days)))
    if since is not None:
        where.append(column >= start_of(since))
    if end is not None:
        where.append(column < start_of(end + timedelta(days=1)))
    return where


_noted_for_report: ContextVar[set[date | None] | None] = ContextVar("noted_for_report", default=None)


def stale_days(session: Session) -> set[date | None]:
    """The days whose stored sums a write changed; None among them: every day. Within
    ``one_reading`` (one report: it writes nothing), read once."""
    noted = _noted_for_report.get()
    if noted is None:
        noted = set(session.scalars(select(ReportStaleDay.day).distinct()))
    return noted


@contextmanager
def one_reading(session: Session) -> Iterator[None]:
    """Read the changed days once for the queries of one report."""
    token = _noted_for_report.set(set(session.scalars(select(ReportStaleDay.day).distinct())))
    try:
        yield
    finally:
        _noted_for_report.reset(token)


def changed_in(stale: set[date | None], since: date | None, end: date) -> list[date] | None:
    """The changed days from ``since`` to ``end``; None when too many (or every day) changed
    to read the stored sums at all."""
    changed = sorted(d for d in stale if d is not None and d <= end and (since is None or d >= since))
    return None if None in stale or len(changed) > MANY_DAYS else changed


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """Every month from the one of ``first`` to the one of ``last``."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def stored_parts(c: Any, since: date, end: date, changed: Sequence[date], *, months_too: bool = True) -> list[Any]:
    """Which stored rows make up ``since`` to ``end`` without the changed days: the month
    rows of the months wholly inside with no changed day (unless not ``months_too``: a
    report by week), the day rows of the rest. One condition per part, read apart: a single
    OR of both kept SQLite from the index."""
    touched = {month_of(d) for d in changed}
    months = [m for m in months_between(since, end)
              if months_too and m >= since and next_month(m) - timedelta(days=1) <= end and m not in touched]
    day_rows = [c.grain == DAY, c.day >= since, c.day <= end]
    if changed:
        day_rows.append(c.day.not_in(changed))
    for first, after in _runs(months):
        day_rows.append(or_(c.day < first, c.day >= after))
    return [and_(*day_rows), *([and_(c.grain == MONTH, c.day.in_(months))] if months else [])]


def _runs(months: list[date]) -> list[tuple[date, date]]:
    """Consecutive months as (first day, the day after the last)."""
    runs: list[tuple[date, date]] = []
    for month in months:
        if runs and runs[-1][1] == month:
            runs[-1] = (runs[-1][0], next_month(month))
        else:
            runs.append((month, next_month(month)))
    return runs
