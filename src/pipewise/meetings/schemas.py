"""What the API takes and gives for booking pages, availability, slots and meetings."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel, partial

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class Question(InputModel):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Annotated[str, Field(min_length=1, max_length=200)]
    required: bool = False


class HostIn(InputModel):
    user_id: uuid.UUID
    priority: Annotated[int, Field(ge=0, le=100)] = 0
    weight: Annotated[int, Field(ge=1, le=100)] = 1


class BookingPageCreate(InputModel):
    slug: Annotated[str, Field(min_length=2, max_length=80)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] | None = None
    kind: Literal["one_to_one", "round_robin", "collective"] = "one_to_one"
    duration_minutes: Annotated[int, Field(ge=5, le=480)] = 30
    slot_step_minutes: Annotated[int, Field(ge=5, le=240)] = 15
    location: Annotated[str, Field(max_length=500)] | None = None
    questions: Annotated[list[Question], Field(max_length=20)] = []
    equal_distribution: bool = False
    contact_owner_first: bool = False
    rate_limit_per_hour: Annotated[int, Field(ge=1, le=10000)] = 10
    is_active: bool = True
    hosts: Annotated[list[HostIn], Field(max_length=50)] | None = None


BookingPageUpdate = partial(BookingPageCreate, "BookingPageUpdate")


class Host(OutputModel):
    user_id: uuid.UUID
    priority: int
    weight: int


class BookingPage(OutputModel):
    id: uuid.UUID
    slug: str
    title: str
    description: str | None
    kind: str
    owner_id: uuid.UUID | None
    duration_minutes: int
    slot_step_minutes: int
    location: str | None
    questions: list[dict]
    equal_distribution: bool
    contact_owner_first: bool
    rate_limit_per_hour: int
    is_active: bool
    hosts: list[Host] = []


class AvailabilityIn(InputModel):
    timezone: Annotated[str, Field(max_length=64)] | None = None
    weekly_hours: dict[Literal["0", "1", "2", "3", "4", "5", "6"], Annotated[list[tuple[HHMM, HHMM]], Field(max_length=6)]] | None = None
    holiday_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    buffer_before_minutes: Annotated[int, Field(ge=0, le=240)] | None = None
    buffer_after_minutes: Annotated[int, Field(ge=0, le=240)] | None = None
    min_notice_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 30)] | None = None
    horizon_days: Annotated[int, Field(ge=1, le=365)] | None = None
    daily_limit: Annotated[int, Field(ge=1, le=50)] | None = None


class Availability(OutputModel):
    user_id: uuid.UUID
    timezone: str | None
    weekly_hours: dict
    holiday_country: str | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    daily_limit: int | None


class Slots(OutputModel):
    timezone: str
    days: dict[str, list[datetime]]


class BookIn(InputModel):
    start: datetime
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(min_length=3, max_length=254)]
    timezone: Annotated[str, Field(max_length=64)] = "UTC"
    answers: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=2000)]] = {}
    website: Annotated[str, Field(max_length=500)] = ""  # the honeypot: people leave it empty


class RescheduleIn(InputModel):
    start: datetime
    timezone: Annotated[str, Field(max_length=64)] | None = None


class CancelIn(InputModel):
    reason: Annotated[str, Field(max_length=500)] | None = None


class OutcomeIn(InputModel):
    status: Literal["held", "no_show"]


class Attendee(OutputModel):
    email: str
    name: str
    partstat: str


class Meeting(OutputModel):
    id: uuid.UUID
    host_id: uuid.UUID
    page_id: uuid.UUID | None
    title: str
    location: str | None
    start_at: datetime
    end_at: datetime
    timezone: str
    status: str
    uid: str
    sequence: int
    contact_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    attendees: list[Attendee] = []


class Booked(OutputModel):
    ok: bool
    message: str
    start: datetime | None = None
    manage_url: str | None = None
