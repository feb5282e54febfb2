"""The event bus: ``record`` writes an outbox row inside the caller's transaction;
the worker later ``dispatch``es each row to the subscribers that take it. A subscription
names the event classes it takes (``Subscription.to(DealStageChanged, ...)``), or, for
the automation engine that reacts to everything and for tests, an fnmatch pattern.

The worker handles a claimed batch in one transaction. A subscriber or action kind
registered ``rerun_safe`` runs without a savepoint of its own: if it fails, the worker
rolls the whole batch back and runs it again with one savepoint per item, so only the
failing item is set aside. Rerun-safe means: its database writes are its only effects, or
its other effects are made once per idempotency key."""

import dataclasses
import fnmatch
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from pipewise.db.session import insert_later
from pipewise.db.unit_of_work import existing_unit_of_work, unit_of_work
from pipewise.events.base import DomainEvent, RecordEvent, names_of
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

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Its own name first, then the general one it is also a case of: a stage change
        (``deal.stage_changed``) is a ``deal.updated`` too."""
        return names_of(self.name, self.payload)

    def named(self, name: str) -> "Event":
        """This event seen under one of its other names."""
        return dataclasses.replace(self, name=name)


Handler = Callable[[Session, Event], None]
ActionHandler = Callable[[Session, ScheduledAction], None]
BatchPreparer = Callable[[Session, list[ScheduledAction]], None]
EventsPreparer = Callable[[Session, list["Event"]], None]
EventsForeseer = Callable[[Session, list["Event"]], Any]

def optimistic(session: Session) -> bool:
    """True while the worker runs a batch without a savepoint per item: a failure
    should propagate (the batch is then run again item by item) rather than be caught.
    The worker sets it on the transaction's unit of work."""
    work = existing_unit_of_work(session)
    return work is not None and work.optimistic


EventTypes = type[DomainEvent] | tuple[type[DomainEvent], ...]


@dataclass(frozen=True)
class Subscription:
    # An fnmatch pattern of event names (``deal.*``), or for one made by ``to`` the names
    # of its classes, for people to read.
    pattern: str
    subscriber: str
    handler: Handler
    rerun_safe: bool = False
    # Called once per batch of events with those this subscriber will receive, before
    # any is dispatched: loads what they will all need in a few statements.
    prepare: EventsPreparer | None = None
    # The event classes it takes (see ``to``); empty: those whose name matches ``pattern``.
    types: tuple[type[DomainEvent], ...] = ()
    # On a database of one writer at a time (SQLite), called before the batch's write
    # transaction, in a read transaction of its own, with the events it will probably
    # receive: works out from what is committed what it can (a comparison, a score), so
    # that other writers are not kept waiting while it does. What it returns is the
    # batch's ``foreseen``; the handler takes of it only what still holds.
    foresee: EventsForeseer | None = None

    @classmethod
    def to(
        cls, types: EventTypes, subscriber: str, handler: Handler, *, rerun_safe: bool = False,
        prepare: EventsPreparer | None = None, foresee: EventsForeseer | None = None,
    ) -> "Subscription":
        """A subscription to the events of ``types`` (a class or a tuple of them) and of
        their subclasses; a more specific fact reaches the subscribers of the general one."""
        types = types if isinstance(types, tuple) else (types,)
        for event_type in types:
            # RecordEvent is every record's change, named only when recorded: the classes
            # a domain declares (DealUpdated) name the ones a subscriber takes.
            if event_type is RecordEvent or not _names_of(event_type):
                raise ValueError(f"{event_type.__name__} names no event; subscribe to the classes that do")
        return cls(" ".join(t.__name__ for t in types), subscriber, handler, rerun_safe, prepare, types, foresee)

    @cached_property
    def type_names(self) -> frozenset[str]:
        """The names of ``types`` and of their subclasses, read at the first event (by
        then every domain has declared its events)."""
        return frozenset().union(*(_names_of(event_type) for event_type in self.types))

    def takes(self, name: str) -> bool:
        if self.types:
            return name in self.type_names
        return fnmatch.fnmatchcase(name, self.pattern)

    def matches(self, event: "Event | str") -> bool:
        """Whether it takes ``event`` (a name, or a stored event under any of its names)."""
        names = (event,) if isinstance(event, str) else event.names
        return any(self.takes(name) for name in names)


def _names_of(event_type: type[DomainEvent]) -> set[str]:
    """The event names of a class and its subclasses (a base such as ``EmailEvent`` names
    none itself)."""
    names, pending = set(), [event_type]
    while pending:
        klass = pending.pop()
        names.add(klass.name)
        pending.extend(klass.__subclasses__())
    return names - {"", DomainEvent.name}


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


# The subscribers of each set of event names asked for so far: the worker asks per event,
# and testing every subscription was a twentieth of its time. Emptied when they change.
_subscribers_by_names: dict[tuple[str, ...], list[Subscription]] = {}


def install(table: HandlerTable) -> None:
    for sub in table.subscriptions:
        _subscriptions[sub.subscriber] = sub
    _action_handlers.update(table.timers)
    _subscribers_by_names.clear()


def subscribe(
    pattern: str, *, name: str | None = None, rerun_safe: bool = False, prepare: EventsPreparer | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler for events whose name matches ``pattern`` (fnmatch: ``deal.*``);
    packages list theirs in a ``HandlerTable`` instead, naming event classes."""

    def register(handler: Handler) -> Handler:
        subscriber = name or f"{handler.__module__}.{handler.__qualname__}"
        _subscriptions[subscriber] = Subscription(pattern, subscriber, handler, rerun_safe, prepare)
        _subscribers_by_names.clear()
        return handler

    return register


def unsubscribe(subscriber: str) -> None:
    _subscriptions.pop(subscriber, None)
    _subscribers_by_names.clear()


def subscriptions_for(event: Event | str) -> list[Subscription]:
    """The subscribers that take ``event``, each once whichever of its names it matched."""
    return list(_subscribers_of(event))


def _subscribers_of(event: Event | str) -> list[Subscription]:
    names = (event,) if isinstance(event, str) else event.names
    found = _subscribers_by_names.get(names)
    if found is None:
        found = _subscribers_by_names[names] = [s for s in _subscriptions.values() if s.matches(event)]
    return found


def _with_their_events(hook: str, events: list[Event]) -> Iterator[tuple[Subscription, list[Event]]]:
    """The subscriptions that have ``hook`` (``prepare``, ``foresee``), each with the
    events of ``events`` it takes, if any: found per event's names, as ``dispatch`` finds
    them (asking each subscription about each event was a tenth of a batch's preparing)."""
    taken: dict[str, list[Event]] = {}
    for event in events:
        for sub in _subscribers_of(event):
            if getattr(sub, hook) is not None:
                taken.setdefault(sub.subscriber, []).append(event)
    for sub in _subscriptions.values():
        if mine := taken.get(sub.subscriber):
            yield sub, mine


def foresee_batch(session: Session, events: list[Event]) -> dict[str, Any]:
    """What each subscriber with a ``foresee`` works out ahead of a batch of ``events``,
    by subscriber."""
    return {sub.subscriber: sub.foresee(session, mine) for sub, mine in _with_their_events("foresee", events)}


@dataclass
class _Foreseen:
    by_subscriber: dict[str, Any] = field(default_factory=dict)


def prepare_batch(session: Session, events: list[Event], foreseen: dict[str, Any] | None = None) -> None:
    """Let each subscriber with a ``prepare`` load what the batch's events will need, and
    keep what ``foresee_batch`` worked out ahead for the batch's handlers."""
    if foreseen:
        unit_of_work(session).state(_Foreseen).by_subscriber.update(foreseen)
    for sub, mine in _with_their_events("prepare", events):
        sub.prepare(session, mine)


def foreseen_for(session: Session, subscriber: str) -> Any:
    """What ``subscriber``'s ``foresee`` worked out ahead of this batch, or None."""
    work = existing_unit_of_work(session)
    return None if work is None else work.state(_Foreseen).by_subscriber.get(subscriber)


def subscription(subscriber: str) -> Subscription | None:
    return _subscriptions.get(subscriber)


# Set when a transaction that recorded events has committed: a worker in the same process
# (``pipewise serve`` on SQLite) waits on it between passes instead of sleeping a whole poll.
events_committed = threading.Event()


class _CommitSignal:
    armed = False


def _signal_at_commit(session: Session) -> None:
    work = unit_of_work(session)
    signal = work.state(_CommitSignal)
    if not signal.armed:
        signal.armed = True
        work.after_commit(events_committed.set)


def record(session: Session, event: DomainEvent) -> None:
    """Add ``event`` to the outbox in the caller's transaction. The row waits with the
    transaction's other deferred inserts and goes out in one statement per table before
    anything that may read it, or at commit (``db/deferred_inserts.py``)."""
    _signal_at_commit(session)
    row = {
        "name": event.event_name(),
        "record_type": event.event_record_type(),
        "record_id": event.record_id,
        "actor_id": event.actor_id,
        "payload": event.payload(),
        "processed_at": None,
    }
    insert_later(session, OutboxEvent, row, ignore_conflicts=False)


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
    """Insert a durable timer; a second schedule with the same key is ignored. Deferred, as
    the transaction's other new rows: a worker batch whose every event asks for the same
    timer (the reports' refresh of the minute) wrote it, and flushed everything pending
    before it, once per event, which was half the batch's time."""
    values = {"key": key, "kind": kind, "run_at": run_at, "payload": payload or {}, "status": "pending"}
    insert_later(session, ScheduledAction, values, ignore_conflicts=True)
