"""Booking pages, availability and meetings for signed-in users: each query applies the
actor's visibility (a page by its owner, a meeting by its host), so a rep never reaches
another team's pages or meetings."""

import re
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor, can_reach_owner, owner_clause
from pipewise.errors import Conflict, ErrorCollector, NotFound
from pipewise.events import bus
from pipewise.meetings.availability import zone
from pipewise.meetings.events import MeetingHeld, MeetingNoShow
from pipewise.meetings.models import ACTIVE_STATUSES, PAGE_KINDS, STATUSES, Availability, BookingHost, BookingPage, Meeting, MeetingAttendee

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
PAGE_FIELDS = ("slug", "title", "description", "kind", "duration_minutes", "slot_step_minutes", "location", "questions",
               "equal_distribution", "contact_owner_first", "rate_limit_per_hour", "is_active")


def _visible(query: Any, column: Any, actor: Actor, *, write: bool) -> Any:
    clause = owner_clause(column, actor, write=write)
    return query if clause is None else query.where(clause)


def pages(session: Session, *, actor: Actor) -> list[BookingPage]:
    return list(session.scalars(_visible(select(BookingPage), BookingPage.owner_id, actor, write=False).order_by(BookingPage.title)))


def page(session: Session, page_id: uuid.UUID, *, actor: Actor, write: bool = False) -> BookingPage:
    found = session.scalar(_visible(select(BookingPage).where(BookingPage.id == page_id), BookingPage.owner_id, actor, write=write))
    if found is None:
        raise NotFound("no such booking page")
    return found


def hosts(session: Session, page_id: uuid.UUID) -> list[BookingHost]:
    return list(session.scalars(select(BookingHost).where(BookingHost.page_id == page_id).order_by(BookingHost.priority.desc())))


def _check_page(session: Session, data: dict[str, Any], record: BookingPage | None, actor: Actor) -> None:
    errors = ErrorCollector()
    slug = data.get("slug")
    if slug is not None:
        if not SLUG.match(slug) or slug == "manage":
            errors.add("slug", "use 2–80 lower-case letters, digits and dashes")
        elif session.scalar(select(BookingPage.id).where(BookingPage.slug == slug, BookingPage.id != (record.id if record else None))):
            errors.add("slug", "another page has this address")
    if data.get("kind") is not None and data["kind"] not in PAGE_KINDS:
        errors.add("kind", f"one of {', '.join(PAGE_KINDS)}")
    for index, host in enumerate(data.get("hosts") or []):
        user = session.get(User, host["user_id"])
        if user is None or not user.is_active or not can_reach_owner(session, user.id, actor, write=True):
            errors.add(f"hosts.{index}.user_id", "is no active user of your team")
    kind = data.get("kind") or (record.kind if record else "one_to_one")
    if kind == "one_to_one" and len(data.get("hosts") or []) > 1:
        errors.add("hosts", "a one-to-one page has one host")
    keys = [q.get("key") for q in data.get("questions") or []]
    if len(keys) != len(set(keys)):
        errors.add("questions", "each question needs its own key")
    errors.raise_if_any()


def _set_hosts(session: Session, page_row: BookingPage, host_rows: list[dict[str, Any]] | None) -> None:
    if host_rows is None:
        return
    session.execute(delete(BookingHost).where(BookingHost.page_id == page_row.id))
    for host in host_rows:
        session.add(BookingHost(page_id=page_row.id, user_id=host["user_id"], priority=host.get("priority", 0), weight=host.get("weight", 1)))
    session.flush()


def create_page(session: Session, data: dict[str, Any], *, actor: Actor) -> BookingPage:
    data = {**data, "hosts": data.get("hosts") or [{"user_id": actor.id}]}
    _check_page(session, data, None, actor)
    row = BookingPage(owner_id=actor.id, **{k: v for k, v in data.items() if k in PAGE_FIELDS})
    session.add(row)
    session.flush()
    _set_hosts(session, row, data["hosts"])
    return row


def update_page(session: Session, page_id: uuid.UUID, data: dict[str, Any], *, actor: Actor) -> BookingPage:
    row = page(session, page_id, actor=actor, write=True)
    _check_page(session, data, row, actor)
    for key, value in data.items():
        if key in PAGE_FIELDS and value is not None:
            setattr(row, key, value)
    session.flush()
    _set_hosts(session, row, data.get("hosts"))
    return row


def delete_page(session: Session, page_id: uuid.UUID, *, actor: Actor) -> None:
    session.delete(page(session, page_id, actor=actor, write=True))
    session.flush()


def availability(session: Session, user_id: uuid.UUID) -> Availability:
    row = session.get(Availability, user_id)
    if row is None:
        row = Availability(user_id=user_id, weekly_hours={}, buffer_before_minutes=0, buffer_after_minutes=0,
                           min_notice_minutes=240, horizon_days=60)
    return row


def _column_default(key: str) -> Any:
    """The value a new row's ``key`` gets (a callable default is called)."""
    default = Availability.__table__.c[key].default
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[union-attr]


def save_availability(session: Session, data: dict[str, Any], *, actor: Actor) -> Availability:
    errors = ErrorCollector()
    if data.get("timezone") and zone(data["timezone"]).key != data["timezone"]:
        errors.add("timezone", "is not a known time zone")
    errors.raise_if_any()
    row = session.get(Availability, actor.id) or Availability(user_id=actor.id)
    for key, value in data.items():
        # A setting sent as null goes back to its default; the nullable ones are cleared.
        column = Availability.__table__.c[key]
        setattr(row, key, _column_default(key) if value is None and not column.nullable else value)
    session.add(row)
    session.flush()
    return row


def meetings(session: Session, *, actor: Actor, status: str | None = None, limit: int = 200) -> list[Meeting]:
    query = _visible(select(Meeting), Meeting.host_id, actor, write=False)
    if status:
        if status not in STATUSES:
            raise NotFound(f"no status {status}")
        query = query.where(Meeting.status == status)
    return list(session.scalars(query.order_by(Meeting.start_at.desc()).limit(limit)))


def meeting(session: Session, meeting_id: uuid.UUID, *, actor: Actor, write: bool = False) -> Meeting:
    found = session.scalar(_visible(select(Meeting).where(Meeting.id == meeting_id), Meeting.host_id, actor, write=write))
    if found is None:
        raise NotFound("no such meeting")
    return found


def attendees(session: Session, meeting_id: uuid.UUID) -> list[MeetingAttendee]:
    return list(session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting_id)))


def set_outcome(session: Session, meeting_id: uuid.UUID, status: str, *, actor: Actor) -> Meeting:
    row = meeting(session, meeting_id, actor=actor, write=True)
    if status not in ("held", "no_show"):
        raise Conflict("an outcome is held or no_show")
    if row.status not in ACTIVE_STATUSES:
        raise Conflict(f"the meeting is already {row.status}")
    row.status = status
    session.flush()
    event = MeetingHeld if status == "held" else MeetingNoShow
    bus.record(session, event(record_id=row.id, host_id=row.host_id, contact_id=row.contact_id, deal_id=row.deal_id,
                              page_id=row.page_id, start_at=row.start_at, end_at=row.end_at, title=row.title))
    return row
