"""Buckets of time (weeks starting Monday, calendar months, in UTC) computed by the
database, so a report over a million rows groups them where they are."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.orm import Session

from pipewise.analytics.filters import ReportFilter


def period_of(session: Session, column: Any, interval: str) -> Any:
    """A text label of the period ``column`` falls in: ``YYYY-MM`` or the week's Monday."""
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), column)
        if interval == "week":
            return func.to_char(func.date_trunc("week", utc), "YYYY-MM-DD")
        return func.to_char(utc, "YYYY-MM")
    if interval == "week":
        return func.date(column, "-6 days", "weekday 1")
    return func.strftime("%Y-%m", column)


def label_of(day: date, interval: str) -> str:
    """The same label computed in Python (for the periods the range covers)."""
    if interval == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.strftime("%Y-%m")


def periods(flt: ReportFilter) -> list[str]:
    """Every period label of the filter's range, oldest first, none missing."""
    labels: list[str] = []
    day = flt.start - timedelta(days=flt.start.weekday()) if flt.interval == "week" else flt.start
    while day <= flt.end:
        label = label_of(day, flt.interval)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=7 if flt.interval == "week" else 1)
    return labels
