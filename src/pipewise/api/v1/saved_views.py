"""Saved views: named filters of a record type's list, yours or shared. Apply one to a
list with ``GET /api/v1/<records>?view=<id>``."""

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.records.saved_views import saved_view_service

router = api_router(prefix="/saved-views", tags=["saved views"])
ListableType = Literal["account", "contact", "lead", "deal", "activity", "task"]


class SavedViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    record_type: ListableType
    filter: dict[str, Any] | None = Field(None, description="filter tree; or give `query` (a list page's query string)")
    query: str | None = Field(None, max_length=2000, description="e.g. lifecycle_stage=sql&q=acme")
    sort: str | None = Field(None, max_length=60)
    shared: bool = False


class SavedViewPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    filter: dict[str, Any] | None = None
    query: str | None = Field(None, max_length=2000)
    sort: str | None = Field(None, max_length=60)
    shared: bool | None = None


class SavedViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    record_type: str
    filter: dict[str, Any] | None
    query: str
    sort: str | None
    shared: bool
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


@router.get("", response_model=list[SavedViewOut], summary="Your views and the shared ones")
def list_views(session: DbSession, actor: CurrentActor, record_type: ListableType | None = None) -> Any:
    return saved_view_service.list(session, actor, record_type)


@router.post("", response_model=SavedViewOut, status_code=201)
def create_view(body: SavedViewIn, session: DbSession, actor: CurrentActor) -> Any:
    return saved_view_service.create(session, body.model_dump(exclude_unset=True), actor=actor)


@router.get("/{view_id}", response_model=SavedViewOut)
def read_view(view_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return saved_view_service.get(session, view_id, actor)


@router.patch("/{view_id}", response_model=SavedViewOut)
def update_view(view_id: uuid.UUID, body: SavedViewPatch, session: DbSession, actor: CurrentActor) -> Any:
    return saved_view_service.update(session, view_id, body.model_dump(exclude_unset=True), actor=actor)


@router.delete("/{view_id}", status_code=204)
def delete_view(view_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    saved_view_service.delete(session, view_id, actor=actor)
    return Response(status_code=204)
