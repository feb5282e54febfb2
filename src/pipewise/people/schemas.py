import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel, RecordOut


class UserCreate(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(min_length=8, max_length=200)] | None = None
    role: Literal["admin", "manager", "rep"] = "rep"
    team_id: uuid.UUID | None = None
    timezone: str = "UTC"


class UserUpdate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    role: Literal["admin", "manager", "rep"] | None = None
    team_id: uuid.UUID | None = None
    timezone: str | None = None
    is_active: bool | None = None
    is_away: bool | None = None
    capacity: Annotated[int, Field(ge=0, le=10_000)] | None = None


class User(RecordOut):
    email: str
    name: str
    role: str
    team_id: uuid.UUID | None
    timezone: str
    is_active: bool
    is_away: bool
    capacity: int


class TeamCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    manager_id: uuid.UUID | None = None


class TeamUpdate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    manager_id: uuid.UUID | None = None


class Team(RecordOut):
    name: str
    manager_id: uuid.UUID | None


class TokenCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)] = "api"


class TokenCreated(OutputModel):
    id: uuid.UUID
    name: str
    token: str
    created_at: datetime
