"""Calendar sync over CalDAV: a user connects one calendar; Pipewise reads its busy times
(the booking window at once, kept for a minute per process) and writes each meeting the
user hosts into it — one event per meeting under the invitation's UID, rewritten with the
current SEQUENCE on reschedule and marked CANCELLED on cancel. Writes run in the worker
from the meeting events; a failed write raises and the worker retries it with backoff."""

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise import netguard
from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow
from pipewise.errors import ErrorCollector, NotFound
from pipewise.events import bus
from pipewise.mail import secrets
from pipewise.meetings import ics
from pipewise.meetings.caldav_client import CalDavClient, CalDavError
from pipewise.meetings.models import Meeting, MeetingAttendee
from pipewise.meetings.sync_models import CalendarConnection

log = logging.getLogger("pipewise.meetings.calendar_sync")

Interval = tuple[datetime, datetime]
CACHE_SECONDS = 60.0
WINDOW = timedelta(days=62)  # what one read covers: the default booking horizon and a little
OWN_UID_SUFFIX = "@pipewise"  # Pipewise's own meetings, already busy through the meeting table


# -- the connection ----------------------------------------------------------------------

def connection_of(session: Session, user_id: uuid.UUID) -> CalendarConnection | None:
    return session.get(CalendarConnection, user_id)


def _check(data: dict[str, Any], existing: CalendarConnection | None) -> None:
    errors = ErrorCollector()
    url = (data.get("url") or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        errors.add("url", "give the calendar's full address, starting with https://")
    elif parts.username or parts.password:
        errors.add("url", "put the user name and app password in their own fields")
    elif problem := netguard.url_problem(url):
        errors.add("url", problem)
    if not (data.get("username") or "").strip():
        errors.add("username", "give the user name of the calendar account")
    if not data.get("password") and existing is None:
        errors.add("password", "give an app password for the calendar account")
    errors.raise_if_any()


def connect(session: Session, data: dict[str, Any], *, actor: Actor) -> CalendarConnection:
    """Save the actor's calendar (a new password replaces the stored one; none keeps it)."""
    row = connection_of(session, actor.id)
    _check(data, row)
    row = row or CalendarConnection(user_id=actor.id)
    row.url = data["url"].strip()
    row.username = data["username"].strip()
    if data.get("password"):
        row.password = secrets.encrypt(data["password"])
    _cache.status.pop(actor.id, None)
    session.add(row)
    session.flush()
    _cache.forget(actor.id)
    return row


def disconnect(session: Session, *, actor: Actor) -> None:
    row = connection_of(session, actor.id)
    if row is None:
        raise NotFound("no calendar is connected")
    session.delete(row)
    session.flush()
    _cache.forget(actor.id)


def client_for(row: CalendarConnection) -> CalDavClient:
    try:
        password = secrets.decrypt(row.password)
    except secrets.UnreadableSecret as exc:
        raise CalDavError(str(exc)) from None
    return CalDavClient(row.url, row.username, password)


# -- busy times ------------------------------------------------------------------------------

@dataclass
class _Cached:
    url: str
    start: datetime
    end: datetime
    busy: list[Interval]
    read_at: float


@dataclass(frozen=True)
class ReadStatus:
    """How the last read of a user's calendar went, as this process saw it. Kept in memory:
    reads happen while slots are listed, where nothing should be written."""

    at: datetime
    error: str | None


class _BusyCache:
    """The busy times read per user, for ``CACHE_SECONDS``, and how the last read went;
    thread-safe (the API's pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[uuid.UUID, _Cached] = {}
        self.status: dict[uuid.UUID, ReadStatus] = {}

    def get(self, user_id: uuid.UUID, url: str, start: datetime, end: datetime) -> list[Interval] | None:
        with self._lock:
            item = self._items.get(user_id)
        if item is None or item.url != url or time.monotonic() - item.read_at > CACHE_SECONDS:
            return None
        if not (item.start <= start and end <= item.end):
            return None
        return [(a, b) for a, b in item.busy if a < end and b > start]

    def put(self, user_id: uuid.UUID, item: _Cached) -> None:
        with self._lock:
            self._items[user_id] = item

    def forget(self, user_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if user_id is None:
                self._items.clear()
                self.status.clear()
            else:
                self._items.pop(user_id, None)


_cache = _BusyCache()
forget_cached_busy_times = _cache.forget


def read_status(user_id: uuid.UUID) -> ReadStatus | None:
    return _cache.status.get(user_id)


def _read(row: CalendarConnection, start: datetime, end: datetime) -> list[Interval]:
    events = client_for(row).events(start, end)
    return sorted(
        (e.start, e.end) for e in events
        if not e.cancelled and not e.transparent and e.end > e.start and not e.uid.endswith(OWN_UID_SUFFIX)
    )


def busy_times_of(session: Session, user_ids: list[uuid.UUID], start: datetime, end: datetime) -> dict[uuid.UUID, list[Interval]]:
    """The busy times in the connected calendars of ``user_ids`` (users without one are
    left out). An unreachable calendar counts as free and keeps its error for its owner
    to see: a booking page keeps working while a calendar server is down."""
    rows = list(session.scalars(select(CalendarConnection).where(CalendarConnection.user_id.in_(user_ids)))) if user_ids else []
    found: dict[uuid.UUID, list[Interval]] = {}
    for row in rows:
        cached = _cache.get(row.user_id, row.url, start, end)
        if cached is not None:
            found[row.user_id] = cached
            continue
        window_start = min(start, datetime.now(UTC) - timedelta(days=1))
        window_end = max(end, window_start + WINDOW)
        try:
            busy = _read(row, window_start, window_end)
        except CalDavError as exc:
            log.warning("reading the calendar of user %s failed: %s", row.user_id, exc)
            _cache.status[row.user_id] = ReadStatus(utcnow(), str(exc)[:2000])
            found[row.user_id] = []
            continue
        _cache.status[row.user_id] = ReadStatus(utcnow(), None)
        _cache.put(row.user_id, _Cached(row.url, window_start, window_end, busy, time.monotonic()))
        found[row.user_id] = [(a, b) for a, b in busy if a < end and b > start]
    return found


# -- writing meetings ----------------------------------------------------------------------------

def stored_event(session: Session, meeting: Meeting) -> str:
    """The meeting as a calendar object to store (no METHOD: that belongs to messages)."""
    host = session.get(User, meeting.host_id)
    attendees = list(session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)))
    method = "CANCEL" if meeting.status == "cancelled" else "REQUEST"
    from icalendar import Calendar  # loaded when a meeting is first written to a calendar

    calendar = Calendar.from_ical(ics.build(meeting, attendees, organizer_email=host.email, organizer_name=host.name, method=method))
    del calendar["method"]
    return calendar.to_ical().decode()


def sync_meeting(session: Session, meeting_id: uuid.UUID) -> bool:
    """Write the meeting's current state to its host's calendar; False when the host has
    none. The state is read now, so a repeated or late run writes the same, newest event."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        return False
    row = connection_of(session, meeting.host_id)
    if row is None:
        return False
    client_for(row).put_event(meeting.uid, stored_event(session, meeting))
    _cache.forget(meeting.host_id)
    return True


def on_meeting_changed(session: Session, event: bus.Event) -> None:
    """Booked, rescheduled, cancelled: raises on failure, so the worker retries it."""
    if event.record_id is not None:
        sync_meeting(session, event.record_id)
