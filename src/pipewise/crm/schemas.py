import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from pipewise.schemas import InputModel, VersionedOut, partial

Name = Annotated[str, Field(min_length=1, max_length=200)]
ShortText = Annotated[str, Field(max_length=300)]
Custom = dict[str, Any]


class AccountCreate(InputModel):
    name: Name
    domain: ShortText | None = None
    industry: Annotated[str, Field(max_length=100)] | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    country: ShortText | None = None
    owner_id: uuid.UUID | None = None
    custom: Custom = {}


AccountUpdate = partial(AccountCreate, "AccountUpdate")


class Account(VersionedOut):
    name: str
    domain: str | None
    industry: str | None
    size: int | None
    country: str | None
    owner_id: uuid.UUID | None
    custom: Custom


class ContactCreate(InputModel):
    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    title: Annotated[str, Field(max_length=150)] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None
    owner_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    lifecycle_stage: str = "lead"
    consent_state: str = "unknown"
    custom: Custom = {}


ContactUpdate = partial(ContactCreate, "ContactUpdate")


class Contact(VersionedOut):
    first_name: str | None
    last_name: str
    email: str | None
    phone: str | None
    title: str | None
    timezone: str | None
    owner_id: uuid.UUID | None
    account_id: uuid.UUID | None
    lifecycle_stage: str
    consent_state: str
    custom: Custom


class ActivityCreate(InputModel):
    type: Literal["call", "email", "meeting", "note"]
    direction: Literal["inbound", "outbound"] | None = None
    subject: Annotated[str, Field(min_length=1, max_length=300)]
    body: Annotated[str, Field(max_length=100_000)] | None = None
    occurred_at: datetime | None = None
    duration_minutes: Annotated[int, Field(ge=0)] | None = None
    owner_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    custom: Custom = {}


ActivityUpdate = partial(ActivityCreate, "ActivityUpdate")


class Activity(VersionedOut):
    type: str
    direction: str | None
    subject: str
    body: str | None
    occurred_at: datetime
    duration_minutes: int | None
    owner_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    account_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    automated: bool
    custom: Custom


class TaskCreate(InputModel):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    notes: Annotated[str, Field(max_length=20_000)] | None = None
    due_at: datetime | None = None
    status: Literal["open", "done", "cancelled"] = "open"
    priority: Literal["low", "normal", "high"] = "normal"
    owner_id: uuid.UUID | None = None
    related_type: Literal["lead", "contact", "account", "deal"] | None = None
    related_id: uuid.UUID | None = None
    remind_at: datetime | None = None
    recurrence: Annotated[str, Field(max_length=500, description="an RRULE repeating from due_at, e.g. FREQ=WEEKLY;BYDAY=MO")] | None = None
    custom: Custom = {}


TaskUpdate = partial(TaskCreate, "TaskUpdate")


class Task(VersionedOut):
    title: str
    notes: str | None
    due_at: datetime | None
    status: str
    priority: str
    owner_id: uuid.UUID | None
    related_type: str | None
    related_id: uuid.UUID | None
    completed_at: datetime | None
    remind_at: datetime | None = None
    reminded_at: datetime | None = None
    recurrence: str | None = None
    next_task_id: uuid.UUID | None = None
    custom: Custom
