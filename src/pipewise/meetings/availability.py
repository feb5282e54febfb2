"""When a user can be booked: working hours in their zone, holidays, buffers, notice,
horizon and a daily limit, minus what they are already busy with (``busy_times``)."""

import uuid
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.assignment.models import RoutingPolicy
from pipewise.meetings import calendar_sync
from pipewise.meetings.models import ACTIVE_STATUSES, Availability, Meeting, MeetingAttendee

Interval = tuple[datetime, datetime]


def clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    import holidays  # loaded when a booking page first asks, not at start

    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


@dataclass(frozen=True)
class Rules:
    """One user's bookable time, resolved (their own settings, else the routing hours)."""

    user_id: uuid.UUID
    timezone: ZoneInfo
    weekly: dict[int, tuple[tuple[time, time], ...]]
    holiday_country: str | None = None
    buffer_before: timedelta = timedelta()
    buffer_after: timedelta = timedelta()
    min_notice: timedelta = timedelta(hours=4)
    horizon: timedelta = timedelta(days=60)
    daily_limit: int | None = None

    def is_holiday(self, day: date) -> bool:
        return bool(self.holiday_country) and day in _holidays(self.holiday_country, day.year)  # type: ignore[arg-type]

    def windows(self, start: datetime, end: datetime) -> list[Interval]:
        """Working windows in UTC that touch [start, end): each day's wall-clock hours in the
        user's zone, so a 09:00 start stays 09:00 across a DST change."""
        found: list[Interval] = []
        day = start.astimezone(self.timezone).date() - timedelta(days=1)
        last = end.astimezone(self.timezone).date()
        while day <= last:
            if not self.is_holiday(day):
                for begin, finish in self.weekly.get(day.weekday(), ()):
                    w_start = datetime.combine(day, begin, self.timezone).astimezone(start.tzinfo)
                    w_end = datetime.combine(day, finish, self.timezone).astimezone(start.tzinfo)
                    if w_end > start and w_start < end:
                        found.append((w_start, w_end))
            day += timedelta(days=1)
        return found

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()


def _weekly(hours: dict[str, list[list[str]]]) -> dict[int, tuple[tuple[time, time], ...]]:
    return {int(day): tuple((clock(a), clock(b)) for a, b in spans if clock(a) < clock(b)) for day, spans in hours.items()}


def rules_for(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, Rules]:
    rows = {row.user_id: row for row in session.scalars(select(Availability).where(Availability.user_id.in_(user_ids)))}
    policy = session.get(RoutingPolicy, 1)
    default_zone = policy.timezone if policy else "UTC"
    default_week = {
        day: ((clock(policy.work_start if policy else "09:00"), clock(policy.work_end if policy else "17:00")),)
        for day in (policy.workdays if policy and policy.workdays is not None else [0, 1, 2, 3, 4])
    }
    found: dict[uuid.UUID, Rules] = {}
    for user_id in user_ids:
        row = rows.get(user_id)
        if row is None:
            found[user_id] = Rules(user_id, zone(default_zone), default_week)
            continue
        found[user_id] = Rules(
            user_id,
            zone(row.timezone or default_zone),
            _weekly(row.weekly_hours) if row.weekly_hours else default_week,
            row.holiday_country,
            timedelta(minutes=row.buffer_before_minutes),
            timedelta(minutes=row.buffer_after_minutes),
            timedelta(minutes=row.min_notice_minutes),
            timedelta(days=row.horizon_days),
            row.daily_limit,
        )
    return found


def busy_times(session: Session, user_id: uuid.UUID, start: datetime, end: datetime) -> list[Interval]:
    """What ``user_id`` is busy with between ``start`` and ``end``. Today the source is
    Pipewise's own meetings (hosted or attended); a connected calendar adds its own here."""
    return busy_times_of(session, [user_id], start, end)[user_id]


def busy_times_of(
    session: Session, user_ids: list[uuid.UUID], start: datetime, end: datetime, *, exclude: uuid.UUID | None = None
) -> dict[uuid.UUID, list[Interval]]:
    """``busy_times`` for several users, sorted by start; ``exclude`` leaves one meeting
    out (the one being moved)."""
    # Two indexed reads (hosted, attended) rather than one OR, which no index serves.
    live = (Meeting.status.in_(ACTIVE_STATUSES), Meeting.start_at < end, Meeting.end_at > start, Meeting.id != exclude)
    columns = (Meeting.host_id, Meeting.start_at, Meeting.end_at, Meeting.id)
    rows = list(session.execute(select(*columns).where(Meeting.host_id.in_(user_ids), *live)))
    attending = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id.in_(user_ids))
    hosted = {row.id for row in rows}
    rows += [row for row in session.execute(select(*columns).where(Meeting.id.in_(attending), *live)) if row.id not in hosted]
    co_hosts: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if rows:
        for meeting_id, user_id in session.execute(
            select(MeetingAttendee.meeting_id, MeetingAttendee.user_id).where(
                MeetingAttendee.meeting_id.in_([r.id for r in rows]), MeetingAttendee.user_id.in_(user_ids)
            )
        ):
            co_hosts[meeting_id].add(user_id)
    busy: dict[uuid.UUID, list[Interval]] = {user_id: [] for user_id in user_ids}
    for row in rows:
        for user_id in {row.host_id, *co_hosts[row.id]} & busy.keys():
            busy[user_id].append((row.start_at, row.end_at))
    for user_id, intervals in calendar_sync.busy_times_of(session, user_ids, start, end).items():
        busy[user_id].extend(intervals)
    for intervals in busy.values():
        intervals.sort()
    return busy


@dataclass
class Calendar:
    """One user's rules and load over a range, to answer "is this slot free?" quickly."""

    rules: Rules
    busy: list[Interval]
    per_day: dict[date, int] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Rules, busy: list[Interval]) -> "Calendar":
        per_day: dict[date, int] = defaultdict(int)
        for begin, _ in busy:
            per_day[rules.local_day(begin)] += 1
        return cls(rules, busy, per_day)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The buffers apply to every meeting, the new one and those already booked: a slot
        # keeps the longer of the two free on either side of any other meeting.
        gap = max(self.rules.buffer_before, self.rules.buffer_after)
        start, end = start - gap, end + gap
        index = bisect_left(self.busy, (start, start))
        # An earlier meeting may still run into the slot: look one back.
        for begin, finish in self.busy[max(index - 1, 0):]:
            if begin >= end:
                return False
            if finish > start:
                return True
        return False

    def full(self, day: date) -> bool:
        return self.rules.daily_limit is not None and self.per_day.get(day, 0) >= self.rules.daily_limit

    def is_free(self, moment: datetime, duration: timedelta, now: datetime, step: timedelta | None = None) -> bool:
        """Whether a meeting of ``duration`` may start at ``moment``; with ``step``, only at
        the start times the page offers (a window's start plus whole steps)."""
        if not now + self.rules.min_notice <= moment < now + self.rules.horizon:
            return False
        inside = any(
            w_start <= moment and moment + duration <= w_end and (step is None or (moment - w_start) % step == timedelta())
            for w_start, w_end in self.rules.windows(moment, moment + duration)
        )
        return inside and not self.full(self.rules.local_day(moment)) and not self.overlaps(moment, moment + duration)

    def free_starts(self, start: datetime, end: datetime, duration: timedelta, step: timedelta, now: datetime) -> list[datetime]:
        earliest, latest = max(start, now + self.rules.min_notice), min(end, now + self.rules.horizon)
        found = []
        for w_start, w_end in self.rules.windows(start, end):
            moment = w_start
            while moment + duration <= w_end:
                if earliest <= moment < latest and not self.full(self.rules.local_day(moment)) and not self.overlaps(moment, moment + duration):
                    found.append(moment)
                moment += step
        return found


def calendars(
    session: Session, user_ids: list[uuid.UUID], start: datetime, end: datetime, *, exclude: uuid.UUID | None = None
) -> dict[uuid.UUID, Calendar]:
    """Each user's calendar over [start, end), widened by a day for buffers and daily counts."""
    rules = rules_for(session, user_ids)
    busy = busy_times_of(session, user_ids, start - timedelta(days=1), end + timedelta(days=1), exclude=exclude)
    return {user_id: Calendar.build(rules[user_id], busy[user_id]) for user_id in user_ids}
