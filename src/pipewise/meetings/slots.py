"""A booking page's free slots and the host a booking goes to.

- one to one: the page's one host.
- round robin: a slot is free when any host is; the booking goes to the contact's owner
  first (when the page says so and they are free), then the highest priority, then the
  host furthest below their weighted share, then the least recently booked. In
  equal-distribution mode a host who would be 3 or more bookings ahead of the least
  booked host is hidden.
- collective: a slot is free only when every host is."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.meetings.availability import Calendar, calendars
from pipewise.meetings.models import BookingHost, BookingPage, Meeting

EQUAL_GAP = 3  # a host this many bookings ahead of the least booked one gets no more


@dataclass(frozen=True)
class HostLoad:
    user_id: uuid.UUID
    priority: int
    weight: int
    booked: int
    last_booked: datetime | None


def hosts_of(session: Session, page: BookingPage) -> list[BookingHost]:
    hosts = list(session.scalars(select(BookingHost).where(BookingHost.page_id == page.id).order_by(BookingHost.user_id)))
    if not hosts and page.owner_id is not None:
        hosts = [BookingHost(page_id=page.id, user_id=page.owner_id, priority=0, weight=1)]
    return hosts


def loads(session: Session, page: BookingPage, hosts: list[BookingHost]) -> list[HostLoad]:
    """How many of this page's meetings each host has (cancelled ones do not count)."""
    rows = {
        row.host_id: row
        for row in session.execute(
            select(Meeting.host_id, func.count().label("booked"), func.max(Meeting.created_at).label("last"))
            .where(Meeting.page_id == page.id, Meeting.status != "cancelled")
            .group_by(Meeting.host_id)
        )
    }
    return [
        HostLoad(h.user_id, h.priority, max(h.weight, 1), rows[h.user_id].booked if h.user_id in rows else 0,
                 rows[h.user_id].last if h.user_id in rows else None)
        for h in hosts
    ]


def eligible(page: BookingPage, load: list[HostLoad]) -> list[HostLoad]:
    """The hosts who may take the next booking at all (equal distribution)."""
    if page.kind != "round_robin" or not page.equal_distribution or not load:
        return load
    least = min(h.booked for h in load)
    return [h for h in load if h.booked + 1 - least < EQUAL_GAP]


def ranked(load: list[HostLoad], preferred: uuid.UUID | None = None) -> list[HostLoad]:
    """Round-robin order: the preferred host (the contact's owner), priority, weighted
    share, least recently booked."""
    never = datetime.min.replace(tzinfo=None)

    def key(h: HostLoad) -> tuple:
        last = h.last_booked.replace(tzinfo=None) if h.last_booked else never
        return (h.user_id != preferred, -h.priority, (h.booked + 1) / h.weight, last, str(h.user_id))

    return sorted(load, key=key)


@dataclass
class PageCalendar:
    page: BookingPage
    load: list[HostLoad]
    calendars: dict[uuid.UUID, Calendar]

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.page.duration_minutes)

    def free_slots(self, start: datetime, end: datetime, now: datetime) -> list[datetime]:
        step = timedelta(minutes=max(self.page.slot_step_minutes, 5))
        per_host = [set(self.calendars[h.user_id].free_starts(start, end, self.duration, step, now)) for h in self.load]
        if not per_host:
            return []
        if self.page.kind == "collective":
            return sorted(set.intersection(*per_host))
        candidates = per_host if self.page.kind == "round_robin" else per_host[:1]
        return sorted(set().union(*candidates))

    def free_hosts(self, slot: datetime, now: datetime) -> list[HostLoad]:
        """The hosts free at ``slot`` (all of them for a collective page, or none)."""
        step = timedelta(minutes=max(self.page.slot_step_minutes, 5))
        free = [h for h in self.load if self.calendars[h.user_id].is_free(slot, self.duration, now, step)]
        if self.page.kind == "collective":
            return free if len(free) == len(self.load) else []
        return free if self.page.kind == "round_robin" else free[:1]


def page_calendar(session: Session, page: BookingPage, start: datetime, end: datetime) -> PageCalendar:
    hosts = hosts_of(session, page)
    load = eligible(page, loads(session, page, hosts))
    if page.kind == "one_to_one":
        load = load[:1]
    return PageCalendar(page, load, calendars(session, [h.user_id for h in load], start, end))


def slots_by_day(slots: list[datetime], tz: object) -> dict[str, list[datetime]]:
    """Slots grouped by the visitor's local date (``YYYY-MM-DD``), in order."""
    days: dict[str, list[datetime]] = defaultdict(list)
    for slot in slots:
        local = slot.astimezone(tz)  # type: ignore[arg-type]
        days[local.date().isoformat()].append(local)
    return dict(days)


def visible_slots(session: Session, page: BookingPage, first_day: date | None, days: int, tz: ZoneInfo, now: datetime) -> dict[str, list[datetime]]:
    """The page's free slots for ``days`` local days of the visitor from ``first_day``."""
    first_day = first_day or now.astimezone(tz).date()
    start = datetime.combine(first_day, time(0), tz).astimezone(UTC)
    end = datetime.combine(first_day + timedelta(days=days), time(0), tz).astimezone(UTC)
    calendar = page_calendar(session, page, start, end)
    return slots_by_day(calendar.free_slots(start, end, now), tz)
