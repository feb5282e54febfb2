"""Time arithmetic in the recipient's zone: business-day delays that skip weekends and
the recipient country's public holidays, and placing a send inside a send window.

Delays keep the local wall-clock time, so a follow-up "two days later" lands at the same
local hour on either side of a daylight-saving change."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import holidays


WEEKDAYS = frozenset(range(5))
MAX_SEARCH_DAYS = 400


@lru_cache(maxsize=64)
def _country_holidays(country: str) -> "holidays.HolidayBase | None":
    import holidays  # loaded when a send is first placed, not at start

    try:
        return holidays.country_holidays(country)
    except NotImplementedError:
        return None


def is_public_holiday(day: date, country: str | None) -> bool:
    calendar = _country_holidays(country.upper()) if country else None
    return calendar is not None and day in calendar


def zone_of(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


@dataclass(frozen=True)
class SendWindow:
    """Days (0 = Monday) and hours [start, end) in the recipient's zone."""

    zone: ZoneInfo
    days: frozenset[int] = WEEKDAYS
    start_hour: int = 9
    end_hour: int = 17
    country: str | None = None

    def is_open_day(self, day: date) -> bool:
        return day.weekday() in self.days and not is_public_holiday(day, self.country)

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(self.start_hour), tzinfo=self.zone)
        if self.end_hour >= 24:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        else:
            end = datetime.combine(day, time(self.end_hour), tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        if not self.is_open_day(local.date()):
            return False
        start, end = self._bounds(local.date())
        return start <= moment < end

    def place(self, moment: datetime) -> datetime:
        """The earliest instant at or after ``moment`` that is inside the window."""
        local_day = moment.astimezone(self.zone).date()
        for offset in range(MAX_SEARCH_DAYS):
            day = local_day + timedelta(days=offset)
            if not self.is_open_day(day):
                continue
            start, end = self._bounds(day)
            if moment < end:
                return max(moment, start).astimezone(UTC)
        raise ValueError("the send window never opens (no sending days configured?)")

    def next_opening_after(self, moment: datetime) -> datetime:
        """The start of the first window on a later local day (e.g. after a daily cap is hit)."""
        next_day = moment.astimezone(self.zone).date() + timedelta(days=1)
        return self.place(datetime.combine(next_day, time(0), tzinfo=self.zone).astimezone(UTC))


def add_delay(moment: datetime, *, days: int, business: bool, zone: ZoneInfo, country: str | None) -> datetime:
    """``moment`` plus ``days`` (calendar or business days) at the same local wall time."""
    local = moment.astimezone(zone)
    day = local.date()
    if business:
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if day.weekday() in WEEKDAYS and not is_public_holiday(day, country):
                remaining -= 1
    else:
        day += timedelta(days=days)
    wall = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)
    return wall.astimezone(UTC)


def local_day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the local calendar day that contains ``moment``."""
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end
