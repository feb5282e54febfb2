"""Schemas of the sequences API and the rules a sequence applies to sales signals."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipewise.runs.holdout import HoldoutShare
from pipewise.schemas import InputModel, OutputModel, RecordOut, partial

SignalAction = Literal["exit", "pause", "ignore"]
StepKind = Literal["auto_email", "manual_email", "call", "task"]
EMAIL_STEPS = ("auto_email", "manual_email")


class SequenceRules(BaseModel):
    """What each sales signal does to an enrollment of this sequence."""

    model_config = ConfigDict(extra="forbid")

    on_reply: Literal["exit", "pause"] = "exit"
    on_meeting: SignalAction = "exit"
    on_manual_touch: SignalAction = "pause"
    manual_touch_pause_days: Annotated[int, Field(ge=1, le=60)] = 3
    on_deal_created: SignalAction = "pause"
    on_deal_stage: SignalAction = "exit"
    # A deal in this stage or a later one (same pipeline) triggers on_deal_stage; with no
    # stage chosen, any open deal past its pipeline's first stage does.
    exit_stage_id: uuid.UUID | None = None
    # When a colleague at the same account replies or books a meeting, pause.
    account_coordination: bool = True
    # Automated e-mails one account may receive per day, across all contacts and sequences.
    account_daily_cap: Annotated[int, Field(ge=1, le=1000)] = 3
    out_of_office_delay_days: Annotated[int, Field(ge=1, le=30)] = 3


def rules_of(raw: dict[str, Any] | None) -> SequenceRules:
    return SequenceRules.model_validate(raw or {})


class TemplateCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["template", "snippet"] = "template"
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")] | None = None
    subject: Annotated[str, Field(max_length=500)] = ""
    body_html: Annotated[str, Field(max_length=200_000)] = ""
    body_text: Annotated[str, Field(max_length=200_000)] | None = None
    mentions_pricing: bool = False  # carries a price or offer: held while a quote is open


TemplateUpdate = partial(TemplateCreate, "TemplateUpdate")


class Template(RecordOut):
    name: str
    kind: str
    key: str | None
    subject: str
    body_html: str
    body_text: str | None
    owner_id: uuid.UUID | None
    mentions_pricing: bool = False


class VariantIn(InputModel):
    label: Annotated[str, Field(min_length=1, max_length=20)] = "A"
    weight: Annotated[int, Field(ge=1, le=100)] = 1
    subject: Annotated[str, Field(max_length=500)] = ""
    body_html: Annotated[str, Field(max_length=200_000)] = ""
    body_text: Annotated[str, Field(max_length=200_000)] | None = None
    template_id: uuid.UUID | None = None
    mentions_pricing: bool = False  # carries a price or offer: held while a quote is open


class Variant(OutputModel):
    id: uuid.UUID
    label: str
    weight: int
    subject: str
    body_html: str
    body_text: str | None
    mentions_pricing: bool = False


class StepIn(InputModel):
    kind: StepKind
    delay_days: Annotated[int, Field(ge=0, le=365)] = 0
    business_days: bool = True
    thread: bool = True
    task_title: Annotated[str, Field(max_length=300)] | None = None
    task_notes: Annotated[str, Field(max_length=20_000)] | None = None
    variants: list[VariantIn] = []


class StepUpdate(InputModel):
    delay_days: Annotated[int, Field(ge=0, le=365)] | None = None
    business_days: bool | None = None
    thread: bool | None = None
    task_title: Annotated[str, Field(max_length=300)] | None = None
    task_notes: Annotated[str, Field(max_length=20_000)] | None = None
    variants: list[VariantIn] | None = None


class Step(OutputModel):
    id: uuid.UUID
    position: int
    kind: str
    delay_days: int
    business_days: bool
    thread: bool
    task_title: str | None
    task_notes: str | None
    variants: list[Variant] = []


class SequenceCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] | None = None
    sender_id: uuid.UUID | None = None
    allow_concurrent: bool = False
    rules: SequenceRules = SequenceRules()
    holdout_percent: HoldoutShare = 0
    steps: list[StepIn] = []


class SequenceUpdate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    sender_id: uuid.UUID | None = None
    allow_concurrent: bool | None = None
    rules: SequenceRules | None = None
    holdout_percent: HoldoutShare | None = None


class Sequence(RecordOut):
    name: str
    description: str | None
    status: str
    owner_id: uuid.UUID | None
    sender_id: uuid.UUID | None
    allow_concurrent: bool
    rules: dict[str, Any]
    holdout_percent: int = 0
    steps: list[Step] = []


class EnrollIn(InputModel):
    contact_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
    reason: Annotated[str, Field(max_length=500)] | None = None


class UnenrollIn(InputModel):
    contact_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "removed by hand"


class Enrollment(OutputModel):
    id: uuid.UUID
    sequence_id: uuid.UUID
    contact_id: uuid.UUID
    account_id: uuid.UUID | None
    sender_id: uuid.UUID | None
    status: str
    reason: str | None
    next_step_id: uuid.UUID | None
    next_run_at: datetime | None
    paused_until: datetime | None
    enrolled_at: datetime
    ended_at: datetime | None
    last_touch_at: datetime | None


class EnrollFailure(BaseModel):
    contact_id: uuid.UUID
    status: int
    message: str


class EnrollResult(BaseModel):
    enrolled: list[Enrollment]
    refused: list[EnrollFailure]


class Decision(OutputModel):
    enrollment_id: uuid.UUID
    sequence_id: uuid.UUID
    contact_id: uuid.UUID
    step_id: uuid.UUID | None
    decision: str
    code: str
    reason: str
    at: datetime


class PreviewIn(InputModel):
    contact_id: uuid.UUID
    subject: Annotated[str, Field(max_length=500)] = ""
    body_html: Annotated[str, Field(max_length=200_000)] = ""
    body_text: Annotated[str, Field(max_length=200_000)] | None = None


class Preview(BaseModel):
    subject: str
    html: str
    text: str


class MoveStepIn(InputModel):
    direction: Literal["up", "down"]


class ManualStepSend(InputModel):
    subject: Annotated[str, Field(min_length=1, max_length=500)]
    body_text: Annotated[str, Field(min_length=1, max_length=200_000)]


class QueuedEmail(OutputModel):
    id: uuid.UUID
    message_id: str
    to_address: str
    subject: str
    status: str
    enrollment_id: uuid.UUID | None
    step_id: uuid.UUID | None


class ResumeIn(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "resumed by hand"
