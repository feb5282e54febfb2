"""Calendar days (UTC) as the per-day report sums count them, and the days a write changed
since the sums were computed (noted by the triggers of migration 0044)."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, cast, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session

from pipewise.analytics import sql
from pipewise.analytics.models import ReportStaleDay

# More changed days than this in one read or one refresh: read the deals of the whole
# range, or compute every day again (cheaper than hundreds of one-day look-ups).
MANY_DAYS = 60


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


def stale_days(session: Session) -> set[date | None]:
    """The days whose stored sums a write changed; None among them: every day."""
    return set(session.scalars(select(ReportStaleDay.day).distinct()))


def changed_in(stale: set[date | None], since: date | None, end: date) -> list[date] | None:
    """The changed days from ``since`` to ``end``; None when too many (or every day) changed
    to read the stored sums at all."""
    changed = sorted(d for d in stale if d is not None and d <= end and (since is None or d >= since))
    return None if None in stale or len(changed) > MANY_DAYS else changed
