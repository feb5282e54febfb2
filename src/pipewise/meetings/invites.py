"""Invitations through the one mail path: the booker gets an iTIP REQUEST (booked,
rescheduled) or CANCEL with the meeting's stable UID and its current SEQUENCE, inline
and as an .ics attachment; the worker sends it after commit."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.mail import compose
from pipewise.meetings import ics, links
from pipewise.meetings.availability import zone
from pipewise.meetings.models import Meeting, MeetingAttendee


def _when(start: datetime, tz: str) -> str:
    return start.astimezone(zone(tz)).strftime("%A %d %B %Y, %H:%M (%Z)")


def send(session: Session, meeting: Meeting, method: str) -> None:
    host = session.get(User, meeting.host_id)
    attendees = list(session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)))
    calendar = ics.build(meeting, attendees, organizer_email=host.email, organizer_name=host.name, method=method)
    cancelled = method == "CANCEL"
    verb = "Cancelled" if cancelled else ("Updated" if meeting.sequence else "Invitation")
    when = _when(meeting.start_at, meeting.timezone)
    manage = "" if cancelled else f"\n\nReschedule or cancel: {links.manage_url(meeting)}"
    for attendee in attendees:
        if attendee.user_id is not None and attendee.user_id == meeting.host_id:
            continue
        contact = session.get(Contact, meeting.contact_id) if meeting.contact_id and attendee.user_id is None else None
        text = f"{meeting.title}\n{when}\n" + (f"Where: {meeting.location}\n" if meeting.location else "") + manage
        try:
            _queue(session, attendee.email, f"{verb}: {meeting.title} — {when}", text, contact, meeting, method, calendar)
        except compose.Refused:
            continue  # the address is suppressed: the meeting stands, no mail goes


def _queue(session: Session, to: str, subject: str, text: str, contact: Contact | None, meeting: Meeting, method: str, calendar: str) -> None:
    compose.queue(
        session,
        compose.Letter(
            to_address=to,
            subject=subject[:500],
            text=text,
            kind="notice",
            automated=True,
            contact=contact,
            sender_id=meeting.host_id,
            send_key=f"meeting:{meeting.id}:{meeting.sequence}:{method}:{to}",
            ical=calendar,
        ),
        immediately=False,
    )
