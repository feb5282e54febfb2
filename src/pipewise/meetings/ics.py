"""iCalendar for invitations (RFC 5545) and their iTIP methods (RFC 5546/6047): REQUEST on
booking and rescheduling, CANCEL on cancelling, REPLY read back from an attendee."""

from dataclasses import dataclass
from datetime import UTC, datetime

from pipewise.meetings.models import Meeting, MeetingAttendee

PRODID = "-//Pipewise//Meetings//EN"


def build(meeting: Meeting, attendees: list[MeetingAttendee], *, organizer_email: str, organizer_name: str, method: str) -> str:
    # icalendar (about 3 MB) loads with the first invitation or reply, not at start.
    from icalendar import Calendar, Event, vCalAddress, vText

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", meeting.start_at.astimezone(UTC))
    event.add("dtend", meeting.end_at.astimezone(UTC))
    event.add("summary", meeting.title)
    if meeting.location:
        event.add("location", meeting.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(organizer_name)
    event["organizer"] = organizer
    for attendee in attendees:
        address = vCalAddress(f"mailto:{attendee.email}")
        address.params["cn"] = vText(attendee.name or attendee.email)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText(attendee.partstat)
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address, encode=0)
    cal.add_component(event)
    return cal.to_ical().decode()


@dataclass(frozen=True)
class Reply:
    uid: str
    sequence: int
    attendee: str
    partstat: str


def parse_reply(text: str) -> Reply | None:
    """The attendee's answer in an iTIP REPLY, or None when ``text`` is none."""
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(text)
    except ValueError:
        return None
    if str(cal.get("method", "")).upper() != "REPLY":
        return None
    for event in cal.walk("VEVENT"):
        attendee = event.get("attendee")
        if isinstance(attendee, list):
            attendee = attendee[0] if attendee else None
        if attendee is None or not event.get("uid"):
            continue
        address = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
        partstat = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
        return Reply(str(event["uid"]), int(event.get("sequence", 0)), address, partstat)
    return None
