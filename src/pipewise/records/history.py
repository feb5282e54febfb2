"""Field history and record events, written together in the caller's transaction."""

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.audit.service import note_record_change
from pipewise.auth.visibility import Actor
from pipewise.db.session import insert_later
from pipewise.events import bus
from pipewise.events.base import RecordEvent, jsonable
from pipewise.records.filters import coerce
from pipewise.records.models import RecordHistory
from pipewise.records.registry import spec_for


def record_change(
    session: Session,
    *,
    record_type: str,
    record_id: uuid.UUID,
    action: str,
    changes: dict[str, Any],
    actor: Actor | None,
    event: RecordEvent | None = None,
) -> None:
    """Store who changed what (old → new) and emit the change to the outbox, once: as
    ``event`` (a subclass naming the fact more precisely, e.g. a deal's stage change; its
    envelope is filled in here) or else as the generic ``<type>.<action>``."""
    stored = jsonable(changes)
    actor_id = actor.id if actor is not None and actor.id.int != 0 else None
    insert_later(
        session, RecordHistory,
        {"record_type": record_type, "record_id": record_id, "action": action, "changes": stored, "actor_id": actor_id},
        ignore_conflicts=False,
    )
    note_record_change(session, record_type=record_type, record_id=record_id, action=action, changes=stored,
                       actor=actor, shared=not spec_for(record_type).owned)
    envelope = {"record_id": record_id, "actor_id": actor_id, "action": action, "type_name": record_type, "changes": stored}
    bus.record(session, dataclasses.replace(event, **envelope) if event is not None else RecordEvent(**envelope))


def history_of(session: Session, record_type: str, record_id: uuid.UUID, *, limit: int = 200) -> list[RecordHistory]:
    return list(
        session.scalars(
            select(RecordHistory)
            .where(RecordHistory.record_type == record_type, RecordHistory.record_id == record_id)
            .order_by(RecordHistory.at.desc(), RecordHistory.id.desc())
            .limit(limit)
        )
    )


def record_as_of(session: Session, record_type: str, record_id: uuid.UUID, at: datetime) -> dict[str, Any] | None:
    """The record's column values as they were at ``at``, rebuilt by undoing every change
    written after it (a deleted record is rebuilt from its deletion snapshot); None if it
    did not exist then. Values come back in the columns' Python types."""
    spec = spec_for(record_type)
    columns = {c.key: c for c in spec.model.__table__.columns}
    row = session.get(spec.model, record_id)
    values: dict[str, Any] = {key: getattr(row, key) for key in columns} if row is not None else {"id": record_id}
    later = session.scalars(
        select(RecordHistory)
        .where(RecordHistory.record_type == record_type, RecordHistory.record_id == record_id, RecordHistory.at > at)
        .order_by(RecordHistory.at.desc(), RecordHistory.id.desc())
    )
    existed = row is not None
    for entry in later:
        if entry.action == "created":
            return None
        existed = existed or entry.action == "deleted"
        for key, change in (entry.changes or {}).items():
            if key in columns and isinstance(change, list) and len(change) == 2:
                values[key] = coerce(columns[key].type, change[0], key)
    return values if existed else None
