"""Booking, rescheduling and cancelling a meeting from a public page, and what follows:
the contact (matched by e-mail, or created), the meeting activity on its timeline and its
open deal, the meeting event (a sales signal), the invitations and the host's notice."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Activity, Contact
from pipewise.crm.service import activity_service, contact_service, task_service
from pipewise.db.base import uuid7
from pipewise.deals.models import Deal, DealContact, Stage
from pipewise.errors import Conflict, ErrorCollector, NotFound, PipewiseError, ValidationFailed
from pipewise.events import bus
from pipewise.meetings import invites
from pipewise.meetings.availability import calendars, zone
from pipewise.meetings.events import MeetingBooked, MeetingCancelled, MeetingEvent, MeetingRescheduled
from pipewise.meetings.models import ACTIVE_STATUSES, Availability, BookingPage, Meeting, MeetingAttendee
from pipewise.meetings.slots import PageCalendar, page_calendar, ranked
from pipewise.records.normalize import normalize_email

SLOT_TAKEN = "This time was just taken. Please pick another slot."


class SlotTaken(Conflict):
    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN)


class RateLimited(PipewiseError):
    status = 429
    title = "Too many bookings"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many bookings from this address; try again later")
        self.retry_after = retry_after


@dataclass
class BookingRequest:
    start: datetime
    name: str
    email: str
    timezone: str = "UTC"
    answers: dict[str, str] | None = None
    honeypot: str = ""
    ip: str | None = None


def now() -> datetime:
    return datetime.now(UTC)


def page_by_slug(session: Session, slug: str) -> BookingPage:
    page = session.scalar(select(BookingPage).where(BookingPage.slug == slug, BookingPage.is_active.is_(True)))
    if page is None:
        raise NotFound("no booking page at this address")
    return page


def _checked(page: BookingPage, request: BookingRequest) -> tuple[str, dict[str, str]]:
    errors = ErrorCollector()
    if not request.name.strip():
        errors.add("name", "give your name")
    elif any(ord(c) < 32 for c in request.name):
        errors.add("name", "must be one line of text")
    email = ""
    try:
        email = normalize_email(validate_email(request.email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        errors.add("email", str(exc))
    answers = {k: str(v).strip()[:2000] for k, v in (request.answers or {}).items()}
    for question in page.questions:
        if question.get("required") and not answers.get(question["key"]):
            errors.add(f"answers.{question['key']}", f"answer “{question.get('label', question['key'])}”")
    try:
        zone_ok = bool(request.timezone) and zone(request.timezone).key == request.timezone
    except AttributeError:
        zone_ok = False
    if not zone_ok:
        errors.add("timezone", "is not a known time zone")
    if request.start.tzinfo is None:
        errors.add("start", "give the time with its offset")
    errors.raise_if_any()
    known = {q["key"] for q in page.questions}
    return email, {k: v for k, v in answers.items() if k in known}


def _rate_limit(session: Session, page: BookingPage, ip: str | None) -> None:
    if not ip:
        return
    since = now() - timedelta(hours=1)
    recent = session.scalar(
        select(func.count()).select_from(Meeting).where(Meeting.page_id == page.id, Meeting.booker_ip == ip, Meeting.created_at >= since)
    )
    if (recent or 0) >= page.rate_limit_per_hour:
        raise RateLimited(retry_after=3600)


def _lock_hosts(session: Session, user_ids: list[uuid.UUID]) -> None:
    """Serialize bookings of the same hosts: their availability rows, locked in one order
    (on SQLite the write transaction already serializes every writer)."""
    ids = sorted(user_ids)
    existing = set(session.scalars(select(Availability.user_id).where(Availability.user_id.in_(ids))))
    for user_id in ids:
        if user_id not in existing:
            with session.begin_nested():
                session.add(Availability(user_id=user_id))
            # A concurrent booking may have added it first: the savepoint took the error.
    session.execute(select(Availability.user_id).where(Availability.user_id.in_(ids)).order_by(Availability.user_id).with_for_update())


def _contact_for(session: Session, email: str, name: str, timezone: str, owner_id: uuid.UUID) -> Contact:
    """The contact with this e-mail (the oldest, as dedup keeps it), else a new one."""
    contact = session.scalar(select(Contact).where(Contact.email == email).order_by(Contact.created_at).limit(1))
    if contact is not None:
        return contact
    first, _, last = name.strip().rpartition(" ")
    return contact_service.create(
        session,
        data={"first_name": first or None, "last_name": last or name.strip(), "email": email, "timezone": timezone, "owner_id": owner_id},
        actor=SYSTEM_ACTOR,
    )


def _open_deal(session: Session, contact: Contact) -> uuid.UUID | None:
    by_contact = select(DealContact.deal_id).where(DealContact.contact_id == contact.id)
    clause = Deal.id.in_(by_contact)
    if contact.account_id is not None:
        clause = clause | (Deal.account_id == contact.account_id)
    return session.scalar(
        select(Deal.id).join(Stage, Stage.id == Deal.stage_id).where(clause, Stage.kind == "open").order_by(Deal.updated_at.desc()).limit(1)
    )


def _event(cls: type[MeetingEvent], meeting: Meeting, **extra: Any) -> MeetingEvent:
    return cls(
        record_id=meeting.id, host_id=meeting.host_id, contact_id=meeting.contact_id, deal_id=meeting.deal_id,
        page_id=meeting.page_id, start_at=meeting.start_at, end_at=meeting.end_at, title=meeting.title, **extra,
    )


def _notify_host(session: Session, meeting: Meeting, what: str) -> None:
    """Tell the host. Today a task on their list; the notification inbox takes this over."""
    when = meeting.start_at.astimezone(zone(_host_zone(session, meeting.host_id))).strftime("%a %d %b %Y %H:%M %Z")
    task_service.create(
        session,
        data={
            "title": f"Meeting {what}: {meeting.title} — {when}"[:300],
            "notes": f"{meeting.title}\n{when}\nBooked by {_booker(meeting)}",
            "due_at": meeting.start_at,
            "owner_id": meeting.host_id,
            "related_type": "contact" if meeting.contact_id else None,
            "related_id": meeting.contact_id,
        },
        actor=SYSTEM_ACTOR,
    )


def _host_zone(session: Session, user_id: uuid.UUID) -> str | None:
    return session.scalar(select(Availability.timezone).where(Availability.user_id == user_id))


def _booker(meeting: Meeting) -> str:
    return str(meeting.answers.get("_name", "")) or "the invitee"


def book(session: Session, page: BookingPage, request: BookingRequest) -> Meeting | None:
    """Book ``request.start`` on ``page``; None for a honeypot hit (a bot gets a polite
    page and nothing is written). Raises ``SlotTaken`` when the slot is gone."""
    if request.honeypot:
        return None
    email, answers = _checked(page, request)
    _rate_limit(session, page, request.ip)
    start = request.start.astimezone(UTC).replace(second=0, microsecond=0)
    calendar = _calendar_at(session, page, start)
    _lock_hosts(session, [h.user_id for h in calendar.load])
    calendar = _calendar_at(session, page, start)  # read again under the lock
    free = calendar.free_hosts(start, now())
    if not free:
        raise SlotTaken()
    contact = session.scalar(select(Contact).where(Contact.email == email).order_by(Contact.created_at).limit(1))
    host = ranked(free, contact.owner_id if contact and page.contact_owner_first else None)[0]
    contact = contact or _contact_for(session, email, request.name, request.timezone, host.user_id)
    meeting = Meeting(
        id=uuid7(), host_id=host.user_id, page_id=page.id, title=f"{page.title} with {request.name.strip()}"[:300],
        location=page.location, start_at=start, end_at=start + calendar.duration, timezone=request.timezone,
        status="scheduled", uid=f"{uuid.uuid4()}@pipewise", sequence=0, nonce=secrets.token_hex(8),
        contact_id=contact.id, deal_id=_open_deal(session, contact), answers={**answers, "_name": request.name.strip()},
        booker_ip=request.ip,
    )
    try:
        with session.begin_nested():
            session.add(meeting)
            session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    session.add(MeetingAttendee(meeting_id=meeting.id, email=email, name=request.name.strip()))
    if page.kind == "collective":
        for other in calendar.load:
            if other.user_id != host.user_id:
                user = session.get(User, other.user_id)
                session.add(MeetingAttendee(meeting_id=meeting.id, email=user.email, name=user.name, user_id=user.id, partstat="ACCEPTED"))
    session.flush()
    activity = activity_service.create(
        session,
        data={
            "type": "meeting", "subject": meeting.title, "occurred_at": meeting.start_at,
            "duration_minutes": page.duration_minutes, "owner_id": meeting.host_id, "contact_id": contact.id,
            "deal_id": meeting.deal_id, "body": "Booked on the page “" + page.title + "”",
        },
        actor=SYSTEM_ACTOR,
    )
    meeting.activity_id = activity.id
    bus.record(session, _event(MeetingBooked, meeting))
    invites.send(session, meeting, "REQUEST")
    _notify_host(session, meeting, "booked")
    return meeting


def _calendar_at(session: Session, page: BookingPage, start: datetime) -> PageCalendar:
    return page_calendar(session, page, start - timedelta(hours=1), start + timedelta(minutes=page.duration_minutes, hours=1))


def by_token(session: Session, meeting_id: uuid.UUID, nonce: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not secrets.compare_digest(meeting.nonce, nonce):
        raise NotFound("this link is no longer valid: the meeting changed or was cancelled")
    return meeting


def reschedule(session: Session, meeting: Meeting, start: datetime, *, timezone: str | None = None) -> Meeting:
    """Move the meeting to another start time its page offers, with the same hosts (same
    UID, next SEQUENCE, a new nonce so the old link dies)."""
    if meeting.status not in ACTIVE_STATUSES:
        raise Conflict(f"the meeting is {meeting.status}")
    if timezone is not None and zone(timezone).key != timezone:
        raise ValidationFailed.on("timezone", "is not a known time zone")
    page = page_of(session, meeting)
    if page is None:
        raise Conflict("the meeting's booking page is gone; book a new meeting instead")
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    duration = meeting.end_at - meeting.start_at
    hosts = [meeting.host_id, *session.scalars(
        select(MeetingAttendee.user_id).where(MeetingAttendee.meeting_id == meeting.id, MeetingAttendee.user_id.is_not(None))
    )]
    _lock_hosts(session, hosts)
    busy = calendars(session, hosts, start, start + duration, exclude=meeting.id)
    step = timedelta(minutes=max(page.slot_step_minutes, 5))
    if not all(calendar.is_free(start, duration, now(), step) for calendar in busy.values()):
        raise SlotTaken()
    previous = meeting.start_at
    meeting.start_at, meeting.end_at, meeting.status = start, start + duration, "rescheduled"
    meeting.sequence += 1
    meeting.nonce = secrets.token_hex(8)
    meeting.timezone = timezone or meeting.timezone
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    _move_activity(session, meeting)
    bus.record(session, _event(MeetingRescheduled, meeting, previous_start_at=previous))
    invites.send(session, meeting, "REQUEST")
    _notify_host(session, meeting, "rescheduled")
    return meeting


def _move_activity(session: Session, meeting: Meeting) -> None:
    activity = session.get(Activity, meeting.activity_id) if meeting.activity_id else None
    if activity is not None:
        activity_service.update(session, activity, data={"occurred_at": meeting.start_at}, actor=SYSTEM_ACTOR)


def cancel(session: Session, meeting: Meeting, *, reason: str | None = None) -> Meeting:
    if meeting.status not in ACTIVE_STATUSES:
        raise Conflict(f"the meeting is already {meeting.status}")
    meeting.status = "cancelled"
    meeting.sequence += 1
    meeting.nonce = secrets.token_hex(8)
    meeting.cancel_reason = (reason or "")[:500] or None
    session.flush()
    bus.record(session, _event(MeetingCancelled, meeting, reason=meeting.cancel_reason))
    invites.send(session, meeting, "CANCEL")
    _notify_host(session, meeting, "cancelled")
    return meeting


def page_of(session: Session, meeting: Meeting) -> BookingPage | None:
    return session.get(BookingPage, meeting.page_id) if meeting.page_id else None
