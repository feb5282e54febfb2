"""The kernel's own API shapes: custom field definitions and history entries."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel, VersionedOut


class CustomFieldCreate(InputModel):
    record_type: str
    key: Annotated[str, Field(min_length=1, max_length=60)]
    label: Annotated[str, Field(min_length=1, max_length=120)]
    field_type: Literal["text", "number", "date", "choice"]
    choices: list[str] = []
    required: bool = False


class CustomFieldUpdate(InputModel):
    label: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    choices: list[str] | None = None
    required: bool | None = None


class CustomField(VersionedOut):
    record_type: str
    key: str
    label: str
    field_type: str
    choices: list[str]
    required: bool


class HistoryEntry(OutputModel):
    id: int
    action: str
    changes: dict[str, Any]
    actor_id: uuid.UUID | None
    at: datetime
