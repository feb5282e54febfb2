"""Your notification inbox and which kinds also come by e-mail. Everyone sees only their
own: another user's notification answers as one that does not exist."""

import uuid
from datetime import datetime
from typing import Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.notifications import service as notifications

router = api_router(tags=["notifications"])


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str | None
    link: str | None
    record_type: str | None
    record_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; null: no more")
    unread: int


class ReadAll(BaseModel):
    marked: int


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: dict[str, bool] = Field(description="kind -> whether it also comes by e-mail")


@router.get("/notifications", response_model=NotificationPage, summary="Your notifications, newest first")
def list_notifications(
    session: DbSession, actor: CurrentActor, unread: bool = False, cursor: str | None = Query(None, max_length=200),
    limit: int = Query(notifications.PAGE_SIZE, ge=1, le=notifications.MAX_PAGE_SIZE),
) -> Any:
    page = notifications.inbox(session, actor.id, unread=unread, cursor=cursor, limit=limit)
    return NotificationPage(items=page.items, next_cursor=page.next_cursor, unread=notifications.unread_count(session, actor.id))


@router.post("/notifications/read-all", response_model=ReadAll, summary="Mark all your notifications read")
def read_all(session: DbSession, actor: CurrentActor) -> Any:
    return ReadAll(marked=notifications.mark_all_read(session, actor.id))


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut, summary="Mark one notification read")
def read_one(notification_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return notifications.mark_read(session, actor.id, notification_id)


@router.get("/notification-preferences", response_model=Preferences, summary="Which kinds also come by e-mail")
def read_preferences(session: DbSession, actor: CurrentActor) -> Any:
    return Preferences(email=notifications.preferences(session, actor.id))


@router.put("/notification-preferences", response_model=Preferences)
def write_preferences(body: Preferences, session: DbSession, actor: CurrentActor) -> Any:
    return Preferences(email=notifications.set_preferences(session, actor.id, body.email))
