"""Shared pieces of the Pydantic schemas: strict input models and partial updates."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RecordOut(OutputModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


def partial(model: type[InputModel], name: str) -> type[InputModel]:
    """The update schema of ``model``: every field optional, only sent fields applied, each
    sent value held to the same bounds (lengths, ranges, patterns) as on create."""
    fields: dict[str, Any] = {}
    for key, info in model.model_fields.items():
        bounded = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[key] = (bounded | None, Field(None, description=info.description))
    return create_model(name, __base__=InputModel, **fields)


class VersionedOut(RecordOut):
    """A record with its version: the ETag to send back in ``If-Match``."""

    version: int
