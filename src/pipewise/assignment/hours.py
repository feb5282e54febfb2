"""Working-hours arithmetic for response-time SLAs."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pipewise.assignment.models import RoutingPolicy


def _clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def add_working_minutes(start: datetime, minutes: int, policy: RoutingPolicy) -> datetime:
    """The moment ``minutes`` of working time after ``start`` (in the policy's time zone
    and working days); a lead arriving at night is due the next working morning."""
    zone = ZoneInfo(policy.timezone)
    begin, end = _clock(policy.work_start), _clock(policy.work_end)
    workdays = set(policy.workdays or [0, 1, 2, 3, 4])
    if not workdays or begin >= end:
        return start + timedelta(minutes=minutes)
    now = start.astimezone(zone)
    remaining = timedelta(minutes=minutes)
    for _ in range(400):  # a year and more of calendar days; guards against an empty week
        day_start = now.replace(hour=begin.hour, minute=begin.minute, second=0, microsecond=0)
        day_end = now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if now.weekday() in workdays and now < day_end:
            now = max(now, day_start)
            available = day_end - now
            if remaining <= available:
                return (now + remaining).astimezone(start.tzinfo)
            remaining -= available
        now = (now + timedelta(days=1)).replace(hour=begin.hour, minute=begin.minute, second=0, microsecond=0)
    return start + timedelta(minutes=minutes)
