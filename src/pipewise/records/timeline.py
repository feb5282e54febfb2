"""A record's timeline: its field history and whatever the domains contribute (activities,
tasks, automation decisions, e-mail touches) through the sources they register."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from pipewise.records.history import history_of


class TimelineEntry(BaseModel):
    kind: str  # activity | task | change | automation | ...
    at: datetime
    title: str
    detail: str | None = None
    actor_id: uuid.UUID | None = None
    data: dict[str, Any] = {}


TimelineSource = Callable[[Session, str, uuid.UUID], list[TimelineEntry]]
_sources: list[TimelineSource] = []


def add_source(source: TimelineSource) -> None:
    if source not in _sources:
        _sources.append(source)


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
    for source in (_changes, *_sources):
        entries.extend(source(session, record_type, record_id))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]



