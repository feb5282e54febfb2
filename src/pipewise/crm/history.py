"""Field history and record events, written together in the caller's transaction."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import RecordHistory
from pipewise.events import bus
from pipewise.events.base import RecordEvent, jsonable


def record_change(
    session: Session,
    *,
    record_type: str,
    record_id: uuid.UUID,
    action: str,
    changes: dict[str, Any],
    actor: Actor | None,
) -> None:
    """Store who changed what (old → new) and emit ``<type>.<action>`` to the outbox."""
    stored = jsonable(changes)
    actor_id = actor.id if actor is not None and actor.id.int != 0 else None
    session.add(
        RecordHistory(record_type=record_type, record_id=record_id, action=action, changes=stored, actor_id=actor_id)
    )
    bus.record(
        session,
        RecordEvent(record_id=record_id, actor_id=actor_id, action=action, type_name=record_type, changes=stored),
    )


def history_of(session: Session, record_type: str, record_id: uuid.UUID, *, limit: int = 200) -> list[RecordHistory]:
    return list(
        session.scalars(
            select(RecordHistory)
            .where(RecordHistory.record_type == record_type, RecordHistory.record_id == record_id)
            .order_by(RecordHistory.at.desc(), RecordHistory.id.desc())
            .limit(limit)
        )
    )
