"""A user's own calendar: the week of their tasks (by due time) and meetings, and the same
as an .ics feed their calendar app subscribes to. The feed's address is signed with the
app's secret and carries the user's feed token; a new token ends every old address."""

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.config import get_settings
from pipewise.crm.models import Activity, CalendarFeed, Task
from pipewise.db.base import utcnow
from pipewise.db.session import dialect_insert
from pipewise.errors import NotFound

FEED_SALT = "pipewise.calendar-feed"
# What the feed carries: a quarter back (recent history in the calendar app), all ahead.
FEED_HISTORY = timedelta(days=90)
MEETING_MINUTES = 30  # a meeting logged without a duration
TASK_MINUTES = 15


@dataclass(frozen=True)
class Entry:
    kind: str  # task | meeting
    title: str
    starts: datetime
    minutes: int
    record_id: uuid.UUID
    done: bool = False


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _tasks(session: Session, user_id: uuid.UUID, start: datetime, end: datetime | None) -> list[Entry]:
    query = select(Task).where(Task.owner_id == user_id, Task.due_at >= start, Task.status != "cancelled")
    if end is not None:
        query = query.where(Task.due_at < end)
    return [Entry("task", t.title, t.due_at, TASK_MINUTES, t.id, t.status == "done")
            for t in session.scalars(query.order_by(Task.due_at)) if t.due_at is not None]


def _meetings(session: Session, user_id: uuid.UUID, start: datetime, end: datetime | None) -> list[Entry]:
    query = select(Activity).where(Activity.owner_id == user_id, Activity.type == "meeting", Activity.occurred_at >= start)
    if end is not None:
        query = query.where(Activity.occurred_at < end)
    return [Entry("meeting", a.subject, a.occurred_at, a.duration_minutes or MEETING_MINUTES, a.id)
            for a in session.scalars(query.order_by(Activity.occurred_at))]


def week(session: Session, user_id: uuid.UUID, first_day: date, zone: str) -> list[tuple[date, list[Entry]]]:
    """Seven days from ``first_day`` in the user's zone, each with its entries in order
    (their times in that zone)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(first_day, time(), tz)
    end = datetime.combine(first_day + timedelta(days=7), time(), tz)
    entries = sorted(_tasks(session, user_id, start, end) + _meetings(session, user_id, start, end), key=lambda e: e.starts)
    days: list[tuple[date, list[Entry]]] = [(first_day + timedelta(days=n), []) for n in range(7)]
    for entry in entries:
        local = replace(entry, starts=entry.starts.astimezone(tz))
        offset = (local.starts.date() - first_day).days
        if 0 <= offset < 7:
            days[offset][1].append(local)
    return days


# -- the feed --


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=FEED_SALT)


def feed_key(session: Session, user_id: uuid.UUID) -> str | None:
    """The signed part of the user's feed address; None until they ask for one."""
    token = session.scalar(select(CalendarFeed.token).where(CalendarFeed.user_id == user_id))
    return None if token is None else _serializer().dumps({"u": str(user_id), "t": token})


def rotate_feed(session: Session, user_id: uuid.UUID) -> str:
    """A (new) feed token: every address given out before stops working."""
    token = secrets.token_urlsafe(24)
    statement = dialect_insert(session)(CalendarFeed).values(user_id=user_id, token=token)
    session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_={"token": token}))
    return _serializer().dumps({"u": str(user_id), "t": token})


def feed_owner(session: Session, key: str) -> uuid.UUID:
    """Whose feed ``key`` opens; NotFound for a forged, damaged or revoked key."""
    try:
        data = _serializer().loads(key)
        user_id = uuid.UUID(data["u"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("no such calendar feed") from None
    token = session.scalar(select(CalendarFeed.token).where(CalendarFeed.user_id == user_id))
    if token is None or not secrets.compare_digest(token, str(data.get("t", ""))):
        raise NotFound("no such calendar feed")
    return user_id


def ics(session: Session, user_id: uuid.UUID, *, name: str) -> bytes:
    """The user's tasks and meetings from a quarter back onwards as an iCalendar file."""
    import icalendar  # loaded with the first feed asked for, not at start

    since = utcnow() - FEED_HISTORY
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Pipewise//Calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Pipewise: {name}")
    stamp = utcnow()
    for entry in _tasks(session, user_id, since, None) + _meetings(session, user_id, since, None):
        event = icalendar.Event()
        event.add("uid", f"{entry.kind}-{entry.record_id}@pipewise")
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.starts.astimezone(UTC))
        event.add("dtend", entry.starts.astimezone(UTC) + timedelta(minutes=entry.minutes))
        prefix = ("Done: " if entry.done else "Task: ") if entry.kind == "task" else ""
        event.add("summary", prefix + entry.title)
        event.add("categories", [entry.kind])
        cal.add_component(event)
    return cal.to_ical()
