"""API shapes of workflows, versions, enrollments and decisions (the workflow format
itself is ``definition.WorkflowDefinition``)."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipewise.automation.definition import shape_problem
from pipewise.runs.holdout import HoldoutShare


def _bounded(value: Any) -> Any:
    if value is not None and (problem := shape_problem(value)) is not None:
        raise ValueError(problem)
    return value


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    requires_approval: bool = False
    holdout_percent: HoldoutShare = Field(0, description="percentage of the records that would enroll held out to measure the effect")
    definition: dict[str, Any] = Field(description="trigger, conditions, goal, allow_reenrollment, steps")

    _definition_shape = field_validator("definition")(_bounded)


class WorkflowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    requires_approval: bool | None = None
    holdout_percent: HoldoutShare | None = None
    definition: dict[str, Any] | None = None

    _definition_shape = field_validator("definition")(_bounded)


class Workflow(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    status: str
    record_type: str
    requires_approval: bool
    holdout_percent: int = 0
    live_version: int | None
    latest_version: int
    pending_approval: bool
    definition: dict[str, Any]
    enrollments: dict[str, int] = {}
    created_at: datetime
    updated_at: datetime


class Version(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    definition: dict[str, Any]
    created_by: uuid.UUID | None
    created_at: datetime
    published_at: datetime | None
    approved_by: uuid.UUID | None
    approved_at: datetime | None


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=1000, description="why; required to pause, cancel, archive, reject")


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class EnrollOutcome(BaseModel):
    record_id: uuid.UUID
    status: str
    reason: str
    enrollment_id: uuid.UUID | None


class TestRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID
    check_conditions: bool = True


class Enrollment(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workflow_id: uuid.UUID
    version_id: uuid.UUID
    record_type: str
    record_id: uuid.UUID
    status: str
    current_step: str | None
    attempt: int
    wait_until: datetime | None
    test_mode: bool
    enrolled_at: datetime
    finished_at: datetime | None
    exit_reason: str | None


class Decision(BaseModel):
    id: int
    enrollment_id: uuid.UUID | None
    record_type: str
    record_id: uuid.UUID
    version: int
    kind: str
    step_id: str | None
    sentence: str
    details: dict[str, Any]
    test_mode: bool
    at: datetime


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    enrollment_id: uuid.UUID | None
    action: str
    actor_id: uuid.UUID | None
    reason: str | None
    at: datetime


class SimulateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: datetime
    end: datetime
    definition: dict[str, Any] | None = Field(None, description="simulate this instead of the latest version")

    _definition_shape = field_validator("definition")(_bounded)
