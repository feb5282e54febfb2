import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel, VersionedOut, partial


class PipelineCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    is_default: bool = False
    stale_after_days: Annotated[int, Field(ge=1, le=365)] = 14


PipelineUpdate = partial(PipelineCreate, "PipelineUpdate")


class Pipeline(VersionedOut):
    name: str
    is_default: bool
    stale_after_days: int


class StageCreate(InputModel):
    pipeline_id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=120)]
    position: int | None = None
    probability: Annotated[int, Field(ge=0, le=100)] = 0
    kind: Literal["open", "won", "lost"] = "open"
    required_fields: list[str] = []


StageUpdate = partial(StageCreate, "StageUpdate")


class Stage(VersionedOut):
    pipeline_id: uuid.UUID
    name: str
    position: int
    probability: int
    kind: str
    required_fields: list[str]


class DealCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    amount: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    close_date: date | None = None
    owner_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    next_step: Annotated[str, Field(max_length=300)] | None = None
    lost_reason: Annotated[str, Field(max_length=5000)] | None = None
    custom: dict[str, Any] = {}


DealUpdate = partial(DealCreate, "DealUpdate")


class Deal(VersionedOut):
    name: str
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    amount: Decimal | None
    currency: str
    close_date: date | None
    owner_id: uuid.UUID | None
    account_id: uuid.UUID | None
    next_step: str | None
    lost_reason: str | None
    stage_entered_at: datetime
    closed_at: datetime | None
    custom: dict[str, Any]


class StageMove(InputModel):
    stage_id: uuid.UUID


class DealContactLink(InputModel):
    contact_id: uuid.UUID
    role: Annotated[str, Field(max_length=60)] | None = None


class DealContactOut(OutputModel):
    contact_id: uuid.UUID
    name: str
    email: str | None
    role: str | None
