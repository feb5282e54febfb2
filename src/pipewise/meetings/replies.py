"""An attendee's iTIP REPLY arriving through the inbound mail path sets their PARTSTAT."""

from email.message import Message

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.events import bus
from pipewise.meetings import ics
from pipewise.meetings.events import MeetingReplied
from pipewise.meetings.models import PARTSTATS, Meeting, MeetingAttendee


def _calendar_parts(msg: Message) -> list[str]:
    found = []
    for part in msg.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return found


def take(session: Session, msg: Message) -> str | None:
    """Apply a REPLY in ``msg``; what happened, or None when it carries none of ours."""
    for text in _calendar_parts(msg):
        reply = ics.parse_reply(text)
        if reply is None or reply.partstat not in PARTSTATS:
            continue
        meeting = session.scalar(select(Meeting).where(Meeting.uid == reply.uid))
        if meeting is None:
            continue
        attendee = session.get(MeetingAttendee, (meeting.id, reply.attendee))
        if attendee is None or reply.sequence < meeting.sequence:
            return f"a calendar reply to an older version of “{meeting.title}” was ignored"
        attendee.partstat = reply.partstat
        bus.record(session, MeetingReplied(
            record_id=meeting.id, host_id=meeting.host_id, contact_id=meeting.contact_id, deal_id=meeting.deal_id,
            page_id=meeting.page_id, start_at=meeting.start_at, end_at=meeting.end_at, title=meeting.title,
            attendee=reply.attendee, partstat=reply.partstat,
        ))
        return f"{reply.attendee} answered {reply.partstat} to “{meeting.title}”"
    return None
