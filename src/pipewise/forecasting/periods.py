"""Forecast periods: a month ("2026-12") or a quarter ("2026-Q4"), from its first day up to
(not including) the first day of the next."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from pipewise.errors import ValidationFailed

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clipped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first = date(year, month + 1, 1)
    last = (add_months_first(first, 1) - timedelta(days=1)).day
    return first.replace(day=min(day.day, last))


def add_months_first(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def quarter_index(day: date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def month_of_quarter(day: date) -> int:
    """1, 2 or 3."""
    return (day.month - 1) % 3 + 1


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        if "Q" in self.key:
            return f"Q{self.key[-1]} {self.key[:4]}"
        return self.start.strftime("%B %Y")

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day < self.end

    def previous(self) -> "Period":
        return period_of(self.start - timedelta(days=1), quarter="Q" in self.key)


def period_of(day: date, *, quarter: bool = False) -> Period:
    if quarter:
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(f"{day.year}-Q{(day.month - 1) // 3 + 1}", first, add_months_first(first, 3))
    first = month_start(day)
    return Period(f"{day.year}-{day.month:02d}", first, add_months_first(first, 1))


def parse_period(key: str, *, field: str = "period") -> Period:
    key = (key or "").strip().upper()
    if match := _MONTH.match(key):
        year, month = int(match[1]), int(match[2])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return period_of(date(year, month, 1))
    elif match := _QUARTER.match(key):
        year, quarter = int(match[1]), int(match[2])
        if 2000 <= year <= 2100:
            return period_of(date(year, quarter * 3 - 2, 1), quarter=True)
    raise ValidationFailed.on(field, f"{key[:20]!r} is not a month (2026-12) or a quarter (2026-Q4) between 2000 and 2100")
