import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel, VersionedOut, partial


class LeadCreate(InputModel):
    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    title: Annotated[str, Field(max_length=150)] | None = None
    company: Annotated[str, Field(max_length=200)] | None = None
    domain: Annotated[str, Field(max_length=253)] | None = None
    industry: Annotated[str, Field(max_length=100)] | None = None
    company_size: Annotated[int, Field(ge=0)] | None = None
    country: Annotated[str, Field(max_length=60)] | None = None
    region: Annotated[str, Field(max_length=60)] | None = None
    source: Annotated[str, Field(max_length=60)] | None = None
    status: str = "new"
    lifecycle_stage: str = "lead"
    consent_state: str = "unknown"
    attribution: dict[str, Annotated[str, Field(max_length=500)]] = {}
    disqualified_reason: Annotated[str, Field(max_length=2000)] | None = None
    owner_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    custom: dict[str, Any] = {}


LeadUpdate = partial(LeadCreate, "LeadUpdate")


class Lead(VersionedOut):
    first_name: str | None
    last_name: str
    email: str | None
    phone: str | None
    title: str | None
    company: str | None
    domain: str | None
    industry: str | None
    company_size: int | None
    country: str | None
    region: str | None
    source: str | None
    status: str
    lifecycle_stage: str
    consent_state: str
    attribution: dict[str, Any]
    disqualified_reason: str | None
    owner_id: uuid.UUID | None
    queue: str | None
    score: int
    fit_score: int
    engagement_score: int
    predicted_probability: float | None
    score_reasons: list[Any]
    scored_at: datetime | None
    assigned_at: datetime | None
    first_touched_at: datetime | None
    account_id: uuid.UUID | None
    converted_at: datetime | None
    converted_contact_id: uuid.UUID | None
    converted_deal_id: uuid.UUID | None
    custom: dict[str, Any]


class LeadConvert(InputModel):
    account_id: uuid.UUID | None = None
    create_deal: bool = True
    deal_name: Annotated[str, Field(max_length=200)] | None = None
    amount: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None


class LeadConversion(OutputModel):
    lead_id: uuid.UUID
    account_id: uuid.UUID
    contact_id: uuid.UUID
    deal_id: uuid.UUID | None
