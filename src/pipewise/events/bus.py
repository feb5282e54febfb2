"""The event bus: ``record`` writes an outbox row inside the caller's transaction;
the worker later ``dispatch``es each row to the subscribers whose pattern matches."""

import fnmatch
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pipewise.events.base import DomainEvent
from pipewise.events.models import OutboxEvent, ScheduledAction


@dataclass(frozen=True)
class Event:
    """What a subscriber receives: the stored event, detached from any ORM session."""

    id: int
    name: str
    record_type: str | None
    record_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    payload: dict[str, Any]
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: OutboxEvent) -> "Event":
        return cls(
            id=row.id,
            name=row.name,
            record_type=row.record_type,
            record_id=row.record_id,
            actor_id=row.actor_id,
            payload=row.payload,
            occurred_at=row.occurred_at,
        )


Handler = Callable[[Session, Event], None]
ActionHandler = Callable[[Session, ScheduledAction], None]


@dataclass(frozen=True)
class Subscription:
    pattern: str
    subscriber: str
    handler: Handler

    def matches(self, event_name: str) -> bool:
        return fnmatch.fnmatchcase(event_name, self.pattern)


_subscriptions: dict[str, Subscription] = {}
_action_handlers: dict[str, ActionHandler] = {}


def subscribe(pattern: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for events whose name matches ``pattern`` (fnmatch: ``deal.*``)."""

    def register(handler: Handler) -> Handler:
        subscriber = name or f"{handler.__module__}.{handler.__qualname__}"
        _subscriptions[subscriber] = Subscription(pattern, subscriber, handler)
        return handler

    return register


def unsubscribe(subscriber: str) -> None:
    _subscriptions.pop(subscriber, None)


def subscriptions_for(event_name: str) -> list[Subscription]:
    return [s for s in _subscriptions.values() if s.matches(event_name)]


def subscription(subscriber: str) -> Subscription | None:
    return _subscriptions.get(subscriber)


def record(session: Session, event: DomainEvent) -> OutboxEvent:
    row = OutboxEvent(
        name=event.event_name(),
        record_type=event.event_record_type(),
        record_id=event.record_id,
        actor_id=event.actor_id,
        payload=event.payload(),
    )
    session.add(row)
    return row


def handles_action(kind: str) -> Callable[[ActionHandler], ActionHandler]:
    """Register the function that runs scheduled actions of ``kind``."""

    def register(handler: ActionHandler) -> ActionHandler:
        _action_handlers[kind] = handler
        return handler

    return register


def action_handler(kind: str) -> ActionHandler | None:
    return _action_handlers.get(kind)


def schedule(
    session: Session, *, key: str, kind: str, run_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Insert a durable timer; a second schedule with the same key is ignored."""
    values = {"key": key, "kind": kind, "run_at": run_at, "payload": payload or {}, "status": "pending"}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(ScheduledAction).values(**values).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(ScheduledAction).values(**values).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        stmt = insert(ScheduledAction).values(**values)
    session.execute(stmt)
