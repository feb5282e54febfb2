"""The event bus: ``record`` writes an outbox row inside the caller's transaction;
the worker later ``dispatch``es each row to the subscribers whose pattern matches.

The worker handles a claimed batch in one transaction. A subscriber or action kind
registered ``rerun_safe`` runs without a savepoint of its own: if it fails, the worker
rolls the whole batch back and runs it again with one savepoint per item, so only the
failing item is set aside. Rerun-safe means: its database writes are its only effects, or
its other effects are made once per idempotency key."""

import fnmatch
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.db.session import dialect_insert
from pipewise.db.unit_of_work import existing_unit_of_work
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
BatchPreparer = Callable[[Session, list[ScheduledAction]], None]
EventsPreparer = Callable[[Session, list["Event"]], None]

def optimistic(session: Session) -> bool:
    """True while the worker runs a batch without a savepoint per item: a failure
    should propagate (the batch is then run again item by item) rather than be caught.
    The worker sets it on the transaction's unit of work."""
    work = existing_unit_of_work(session)
    return work is not None and work.optimistic


@dataclass(frozen=True)
class Subscription:
    pattern: str
    subscriber: str
    handler: Handler
    rerun_safe: bool = False
    # Called once per batch of events with those this subscriber will receive, before
    # any is dispatched: loads what they will all need in a few statements.
    prepare: EventsPreparer | None = None

    def matches(self, event_name: str) -> bool:
        return fnmatch.fnmatchcase(event_name, self.pattern)


@dataclass(frozen=True)
class ActionKind:
    handler: ActionHandler
    # Called once per claimed batch with that batch's actions of this kind, before any
    # runs: loads (and locks) what they will all need in a few statements.
    prepare: BatchPreparer | None = None
    rerun_safe: bool = False


@dataclass(frozen=True)
class HandlerTable:
    """One package's subscribers and the scheduled-action kinds (timers) it runs."""

    subscriptions: tuple[Subscription, ...] = ()
    timers: dict[str, ActionKind] = field(default_factory=dict)


_subscriptions: dict[str, Subscription] = {}
_action_handlers: dict[str, ActionKind] = {}


def install(table: HandlerTable) -> None:
    for sub in table.subscriptions:
        _subscriptions[sub.subscriber] = sub
    _action_handlers.update(table.timers)


def subscribe(
    pattern: str, *, name: str | None = None, rerun_safe: bool = False, prepare: EventsPreparer | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler for events whose name matches ``pattern`` (fnmatch: ``deal.*``)."""

    def register(handler: Handler) -> Handler:
        subscriber = name or f"{handler.__module__}.{handler.__qualname__}"
        _subscriptions[subscriber] = Subscription(pattern, subscriber, handler, rerun_safe, prepare)
        return handler

    return register


def unsubscribe(subscriber: str) -> None:
    _subscriptions.pop(subscriber, None)


def subscriptions_for(event_name: str) -> list[Subscription]:
    return [s for s in _subscriptions.values() if s.matches(event_name)]


def prepare_batch(session: Session, events: list[Event]) -> None:
    """Let each subscriber with a ``prepare`` load what the batch's events will need."""
    for sub in _subscriptions.values():
        if sub.prepare is not None and (mine := [event for event in events if sub.matches(event.name)]):
            sub.prepare(session, mine)


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


def handles_action(
    kind: str, *, prepare: BatchPreparer | None = None, rerun_safe: bool = False
) -> Callable[[ActionHandler], ActionHandler]:
    """Register the function that runs scheduled actions of ``kind``."""

    def register(handler: ActionHandler) -> ActionHandler:
        _action_handlers[kind] = ActionKind(handler, prepare, rerun_safe)
        return handler

    return register


def action_kind(kind: str) -> ActionKind | None:
    return _action_handlers.get(kind)


def schedule(
    session: Session, *, key: str, kind: str, run_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Insert a durable timer; a second schedule with the same key is ignored."""
    values = {"key": key, "kind": kind, "run_at": run_at, "payload": payload or {}, "status": "pending"}
    session.execute(dialect_insert(session)(ScheduledAction).values(**values).on_conflict_do_nothing(index_elements=["key"]))
