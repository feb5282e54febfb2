"""Meeting facts. They are sales signals: sequences take ``meeting.*`` (a booked meeting
ends or pauses introductory sequences), workflows and webhooks read them too."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class MeetingEvent(DomainEvent):
    record_type: ClassVar[str | None] = "meeting"

    host_id: uuid.UUID
    contact_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    page_id: uuid.UUID | None = None
    start_at: datetime
    end_at: datetime
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class MeetingBooked(MeetingEvent):
    name: ClassVar[str] = "meeting.booked"


@dataclass(frozen=True, kw_only=True)
class MeetingRescheduled(MeetingEvent):
    name: ClassVar[str] = "meeting.rescheduled"

    previous_start_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class MeetingCancelled(MeetingEvent):
    name: ClassVar[str] = "meeting.cancelled"

    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class MeetingReplied(MeetingEvent):
    name: ClassVar[str] = "meeting.replied"

    attendee: str = ""
    partstat: str = ""


@dataclass(frozen=True, kw_only=True)
class MeetingHeld(MeetingEvent):
    name: ClassVar[str] = "meeting.held"


@dataclass(frozen=True, kw_only=True)
class MeetingNoShow(MeetingEvent):
    """The invitee did not come: a signal a re-booking sequence or workflow can start from."""

    name: ClassVar[str] = "meeting.no_show"
