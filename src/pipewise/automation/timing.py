"""Durations ("3d", "1d12h", "90m") and business days."""

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from pipewise.automation.settings import get_automation_settings

if TYPE_CHECKING:
    import holidays

_PART = re.compile(r"(\d+)([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """``"3d"``, ``"1d12h"``, ``"45m"`` → a timedelta; raises ValueError otherwise."""
    cleaned = str(text).replace(" ", "").lower()
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration such as 30m, 4h, 3d or 1w")
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def show_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    parts = []
    for label, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {label}{'s' if n != 1 else ''}")
    return ", ".join(parts) or f"{seconds} seconds"


@lru_cache
def _holidays(country: str) -> "holidays.HolidayBase | None":
    if not country:
        return None
    import holidays  # about 3 MB of calendars, loaded when a workflow first counts working days

    return holidays.country_holidays(country)


def is_business_day(day: date) -> bool:
    calendar = _holidays(get_automation_settings().holiday_country)
    return day.weekday() < 5 and (calendar is None or day not in calendar)


def add_business_days(start: datetime, days: int) -> datetime:
    """The same time of day ``days`` working days later (weekends and holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current.date()):
            remaining -= 1
    return current

