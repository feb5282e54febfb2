"""A step that is due later is a durable timer: a ``scheduled_action`` row the worker claims
when its ``run_at`` comes. Its key is ``<prefix>:<part>:<part>…``; the key makes the
timer unique (scheduling the same key twice is one timer) and lets an engine tell a
current timer from a stale one. Its payload names the enrollment and the step."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.events import bus
from pipewise.events.models import ScheduledAction


def timer_key(prefix: str, *parts: object) -> str:
    return ":".join([prefix, *(str(part) for part in parts)])


def schedule_step(
    session: Session, *, key: str, kind: str, run_at: datetime, enrollment_id: uuid.UUID,
    step_id: object | None = None, **extra: Any,
) -> str:
    """Schedule ``kind`` for the enrollment (and step) at ``run_at``; returns the key.
    ``extra`` goes into the payload as it is (JSON values)."""
    payload: dict[str, Any] = {"enrollment_id": str(enrollment_id)}
    if step_id is not None:
        payload["step_id"] = str(step_id)
    payload.update(extra)
    bus.schedule(session, key=key, kind=kind, run_at=run_at, payload=payload)
    return key


@dataclass(frozen=True)
class StepTimer:
    """A claimed step timer, read back from its payload."""

    enrollment_id: uuid.UUID
    step_id: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, action: ScheduledAction) -> "StepTimer":
        payload = action.payload or {}
        return cls(uuid.UUID(payload["enrollment_id"]), payload.get("step_id"), payload)
