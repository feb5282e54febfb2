"""A record's timeline: activities, tasks, field history and whatever other packages
contribute (automation decisions, e-mail touches) through ``timeline_source``."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.crm.history import history_of
from pipewise.crm.models import Activity, Task


class TimelineEntry(BaseModel):
    kind: str  # activity | task | change | automation | ...
    at: datetime
    title: str
    detail: str | None = None
    actor_id: uuid.UUID | None = None
    data: dict[str, Any] = {}


TimelineSource = Callable[[Session, str, uuid.UUID], list[TimelineEntry]]
_sources: list[TimelineSource] = []


def timeline_source(fn: TimelineSource) -> TimelineSource:
    _sources.append(fn)
    return fn


ACTIVITY_LINK = {"lead": "lead_id", "contact": "contact_id", "account": "account_id", "deal": "deal_id"}


def _activities(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    column = getattr(Activity, ACTIVITY_LINK[record_type])
    rows = session.scalars(select(Activity).where(column == record_id).order_by(Activity.occurred_at.desc()).limit(200))
    return [
        TimelineEntry(
            kind="activity",
            at=a.occurred_at,
            title=f"{a.type.capitalize()}{' (' + a.direction + ')' if a.direction else ''}: {a.subject}",
            detail=a.body,
            actor_id=a.owner_id,
            data={"id": str(a.id), "type": a.type, "automated": a.automated},
        )
        for a in rows
    ]


def _tasks(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    rows = session.scalars(
        select(Task).where(Task.related_type == record_type, Task.related_id == record_id).order_by(Task.created_at.desc())
    )
    return [
        TimelineEntry(
            kind="task",
            at=t.completed_at or t.created_at,
            title=f"Task {'done' if t.status == 'done' else t.status}: {t.title}",
            detail=f"due {t.due_at:%Y-%m-%d %H:%M} UTC" if t.due_at else None,
            actor_id=t.owner_id,
            data={"id": str(t.id), "status": t.status},
        )
        for t in rows
    ]


def describe_change(action: str, changes: dict[str, Any]) -> str:
    if action == "created":
        return "Created"
    if action == "deleted":
        return "Deleted"
    parts = []
    for field, values in changes.items():
        if isinstance(values, list) and len(values) == 2:
            old, new = values
            parts.append(f"{field.replace('_', ' ')}: {_show(old)} → {_show(new)}")
        else:
            parts.append(field.replace("_", " "))
    return (action.capitalize() + ": " if action != "updated" else "") + "; ".join(parts)


def _show(value: Any) -> str:
    if value in (None, "", {}):
        return "—"
    return str(value) if not isinstance(value, dict) else ", ".join(f"{k}={v}" for k, v in value.items())


def _changes(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            kind="change",
            at=h.at,
            title=describe_change(h.action, h.changes),
            actor_id=h.actor_id,
            data={"action": h.action, "changes": h.changes},
        )
        for h in history_of(session, record_type, record_id)
    ]


def timeline(session: Session, record_type: str, record_id: uuid.UUID, *, limit: int = 300) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in (_activities, _tasks, _changes, *_sources):
        entries.extend(source(session, record_type, record_id))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]



