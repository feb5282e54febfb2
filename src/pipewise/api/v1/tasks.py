"""Task actions beyond CRUD: snooze, and your calendar feed's address (and a new one)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.crm import calendar, schemas
from pipewise.crm.service import task_service

router = api_router(tags=["tasks"])


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: datetime = Field(description="the new reminder time (a due time before it moves too); no zone: UTC")


class CalendarFeedOut(BaseModel):
    url: str | None = Field(description="the signed .ics address; null until you ask for one")


@router.post("/tasks/{task_id}/snooze", response_model=schemas.Task, summary="Move a task's reminder (and due time) later")
def snooze_task(task_id: uuid.UUID, body: SnoozeIn, session: DbSession, actor: CurrentActor) -> Any:
    until = body.until if body.until.tzinfo else body.until.replace(tzinfo=UTC)
    return task_service.snooze(session, task_id, until, actor=actor)


def _feed_url(request: Request, key: str | None) -> str | None:
    return str(request.url_for("calendar_feed", key=key)) if key else None


@router.get("/calendar-feed", response_model=CalendarFeedOut, summary="Your calendar feed's address")
def read_feed(request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return CalendarFeedOut(url=_feed_url(request, calendar.feed_key(session, actor.id)))


@router.post("/calendar-feed", response_model=CalendarFeedOut, summary="A new calendar feed address (the old one stops working)")
def rotate_feed(request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return CalendarFeedOut(url=_feed_url(request, calendar.rotate_feed(session, actor.id)))
