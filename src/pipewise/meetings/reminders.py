"""Meeting reminders as durable timers: one ``scheduled_action`` per meeting, offset and
start time (``meeting-reminder:<meeting>:<minutes>:<start>``), so scheduling twice is one
timer, a worker that dies mid-run leaves the timer pending for the next one, and the
effect (the host's task, the invitee's e-mail) commits with the timer's "done". A
reschedule cancels the timers of the old start and schedules those of the new one; a
cancel removes them. Offsets are exact durations before the start in UTC."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Contact
from pipewise.db.base import utcnow
from pipewise.errors import ErrorCollector
from pipewise.events import bus
from pipewise.events.models import ScheduledAction
from pipewise.mail import compose
from pipewise.meetings import links
from pipewise.meetings.availability import zone
from pipewise.meetings.models import ACTIVE_STATUSES, Availability, Meeting, MeetingAttendee
from pipewise.meetings.sync_models import DEFAULT_REMINDERS, ReminderSettings
from pipewise.notifications.service import notify
from pipewise.runs.timers import timer_key

KIND = "meeting.reminder"
PREFIX = "meeting-reminder"
MAX_OFFSET_MINUTES = 14 * 24 * 60
MAX_OFFSETS = 5


def settings_of(session: Session, user_id: uuid.UUID) -> ReminderSettings:
    return session.get(ReminderSettings, user_id) or ReminderSettings(
        user_id=user_id, offsets_minutes=list(DEFAULT_REMINDERS), remind_invitee=False
    )


def save_settings(session: Session, data: dict[str, Any], *, actor: Actor) -> ReminderSettings:
    errors = ErrorCollector()
    offsets = data.get("offsets_minutes")
    if offsets is not None:
        if len(offsets) > MAX_OFFSETS:
            errors.add("offsets_minutes", f"at most {MAX_OFFSETS} reminders")
        for index, minutes in enumerate(offsets):
            if not 1 <= minutes <= MAX_OFFSET_MINUTES:
                errors.add(f"offsets_minutes.{index}", f"between 1 and {MAX_OFFSET_MINUTES} minutes before the start")
    errors.raise_if_any()
    row = session.get(ReminderSettings, actor.id) or ReminderSettings(user_id=actor.id, offsets_minutes=list(DEFAULT_REMINDERS))
    if offsets is not None:
        row.offsets_minutes = sorted(set(offsets), reverse=True)
    if data.get("remind_invitee") is not None:
        row.remind_invitee = bool(data["remind_invitee"])
    session.add(row)
    session.flush()
    return row


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%MZ")


def reminder_key(meeting: Meeting, minutes: int) -> str:
    return timer_key(PREFIX, meeting.id, minutes, _stamp(meeting.start_at))


def cancel_stale(session: Session, prefix: str, meeting_id: uuid.UUID, keep: set[str]) -> None:
    """Cancel the meeting's pending timers under ``prefix`` other than ``keep``."""
    session.execute(
        update(ScheduledAction)
        .where(ScheduledAction.key.startswith(timer_key(prefix, meeting_id) + ":"), ScheduledAction.status == "pending",
               ScheduledAction.key.not_in(keep or {""}))
        .values(status="cancelled", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def arm(session: Session, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
    """Schedule the timer ``key``; one cancelled before (the meeting moved away and back to
    this time) is pending again."""
    bus.schedule(session, key=key, kind=kind, run_at=run_at, payload=payload)
    session.execute(
        update(ScheduledAction).where(ScheduledAction.key == key, ScheduledAction.status == "cancelled")
        .values(status="pending", run_at=run_at, finished_at=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


def plan(session: Session, meeting: Meeting) -> list[str]:
    """Make the meeting's reminder timers match it now; the keys of those it keeps."""
    keep: dict[str, datetime] = {}
    if meeting.status in ACTIVE_STATUSES:
        now = utcnow()
        for minutes in settings_of(session, meeting.host_id).offsets_minutes:
            run_at = meeting.start_at - timedelta(minutes=int(minutes))
            if run_at > now:
                keep[reminder_key(meeting, int(minutes))] = run_at
    cancel_stale(session, PREFIX, meeting.id, set(keep))
    for key, run_at in keep.items():
        minutes = int(key.split(":")[2])
        arm(session, key, KIND, run_at, {"meeting_id": str(meeting.id), "minutes": minutes, "start": meeting.start_at.isoformat()})
    return list(keep)


def _lead_time(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day" + ("s" if days > 1 else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours > 1 else "")
    return f"{minutes} minutes"


def _when(meeting: Meeting, tz: str | None) -> str:
    return meeting.start_at.astimezone(zone(tz)).strftime("%a %d %b %Y %H:%M %Z")


def remind_host(session: Session, meeting: Meeting, minutes: int) -> None:
    """The host's reminder, in their notification inbox (and by e-mail if they chose so);
    keyed by the meeting, the offset and the start, so a repeated timer tells them once."""
    when = _when(meeting, session.scalar(select(Availability.timezone).where(Availability.user_id == meeting.host_id)))
    notify(
        session, meeting.host_id, "reminder", f"Meeting in {_lead_time(minutes)}: {meeting.title} — {when}",
        body=f"{meeting.title}\n{when}" + (f"\nWhere: {meeting.location}" if meeting.location else ""),
        link="/meetings", record_type="contact" if meeting.contact_id else None, record_id=meeting.contact_id,
        key=f"meeting-reminder:{meeting.id}:{minutes}:{meeting.start_at.isoformat()}",
    )


def remind_invitees(session: Session, meeting: Meeting, minutes: int) -> None:
    host = session.get(User, meeting.host_id)
    for attendee in session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id, MeetingAttendee.user_id.is_(None))):
        contact = session.get(Contact, meeting.contact_id) if meeting.contact_id else None
        when = _when(meeting, meeting.timezone)
        text = (f"A reminder: {meeting.title} with {host.name}\n{when}\n"
                + (f"Where: {meeting.location}\n" if meeting.location else "")
                + f"\nReschedule or cancel: {links.manage_url(meeting)}")
        letter = compose.Letter(
            to_address=attendee.email, subject=f"Reminder: {meeting.title} — {when}"[:500], text=text, kind="notice",
            automated=True, contact=contact, sender_id=meeting.host_id,
            send_key=f"{reminder_key(meeting, minutes)}:{attendee.email}",
        )
        try:
            compose.queue(session, letter, immediately=False)
        except compose.Refused:
            continue  # suppressed: the host is still reminded


def run_reminder(session: Session, action: ScheduledAction) -> None:
    """A due reminder. It is re-checked now: a meeting that moved or was cancelled since
    this timer was set reminds no one (its current timers do)."""
    payload = action.payload or {}
    meeting = session.get(Meeting, uuid.UUID(payload["meeting_id"]))
    if meeting is None or meeting.status not in ACTIVE_STATUSES or action.key != reminder_key(meeting, int(payload["minutes"])):
        action.status, action.last_error = "cancelled", "the meeting moved or was cancelled"
        action.finished_at = utcnow()
        return
    minutes = int(payload["minutes"])
    remind_host(session, meeting, minutes)
    if settings_of(session, meeting.host_id).remind_invitee:
        remind_invitees(session, meeting, minutes)
