"""The worker: drains the outbox to subscribers, retries failed deliveries, runs due
scheduled actions. Several workers may run against PostgreSQL at once: every claim is a
``SELECT … FOR UPDATE SKIP LOCKED`` and the effects commit with the claim."""

import dataclasses
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, literal_column, select, update
from sqlalchemy.orm import Session

from pipewise import origin as origins
from pipewise.config import get_settings
from pipewise.db.base import among, on_sqlite_index, utcnow
from pipewise.db.plain_statement import PlainStatement
from pipewise.db.session import get_engine, kept_waiting_lately, read, read_only_scope, refresh_statistics, session_scope
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events import bus
from pipewise.events.models import (
    ACTION_DUE_INDEX,
    DELIVERY_DUE_INDEX,
    OUTBOX_PENDING_INDEX,
    EventDelivery,
    OutboxEvent,
    ScheduledAction,
)

log = logging.getLogger("pipewise.worker")

MAX_ATTEMPTS = 8
STATISTICS_EVERY_SECONDS = 3600
GATHER_SECONDS = 0.1  # after a commit's signal, before the pass: events that follow close behind join it
WAKE_CHECK_SECONDS = 0.025  # how often an idle worker looks for events committed by other processes
# On SQLite a batch is worked out ahead while another process kept this one waiting for the
# write turn within this many seconds (Worker._looks_ahead).
LOOK_AHEAD_AFTER_WAIT_SECONDS = 2.0
TIMER_BATCH_AT_MOST = 200


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at one hour."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


def _run_subscriber(session: Session, sub: bus.Subscription, event: bus.Event) -> str | None:
    """Run one subscriber inside a savepoint; return the error text if it failed. In an
    optimistic batch a rerun-safe subscriber runs bare and its failure propagates."""
    if sub.rerun_safe and bus.optimistic(session):
        sub.handler(session, event)
        return None
    try:
        with session.begin_nested():
            sub.handler(session, event)
    except Exception:  # noqa: BLE001 - a subscriber's failure must not stop the others
        log.exception("subscriber %s failed on event %s", sub.subscriber, event.id)
        return traceback.format_exc(limit=5)
    return None


def dispatch(session: Session, event: bus.Event) -> int:
    """Deliver one event to every matching subscriber; failures are queued for retry."""
    failures = 0
    for sub in bus.subscriptions_for(event):
        error = _run_subscriber(session, sub, event)
        if error is not None:
            failures += 1
            session.add(
                EventDelivery(
                    event_id=event.id,
                    subscriber=sub.subscriber,
                    attempts=1,
                    next_attempt_at=utcnow() + backoff(1),
                    last_error=error,
                )
            )
    return failures


# Each queue is read by its partial index of the rows still to handle (db.base.on_sqlite_index),
# its condition written as the index's is, a literal: SQLite cannot use the index for a parameter.
def _unhandled(statement: Select[Any]) -> Select[Any]:
    return on_sqlite_index(statement.where(OutboxEvent.processed_at.is_(None)), OutboxEvent, OUTBOX_PENDING_INDEX)


def _due_deliveries(statement: Select[Any], now: Any) -> Select[Any]:
    statement = statement.where(EventDelivery.status == literal_column("'retry'"), EventDelivery.next_attempt_at <= now)
    return on_sqlite_index(statement, EventDelivery, DELIVERY_DUE_INDEX)


def _due_actions(statement: Select[Any], now: Any) -> Select[Any]:
    statement = statement.where(ScheduledAction.status == literal_column("'pending'"), ScheduledAction.run_at <= now)
    return on_sqlite_index(statement, ScheduledAction, ACTION_DUE_INDEX)


_PENDING = PlainStatement(_unhandled(select(OutboxEvent.id)).limit(1))


def outbox_pending() -> bool:
    """Whether an event waits in the outbox: one read of its partial index."""
    with session_scope(write=False) as session:
        return bool(read(session, _PENDING))


def _claimable(batch: Any) -> Select[Any]:
    """The oldest unhandled events, locked for this worker: the columns of a ``bus.Event``,
    in the order of its fields."""
    columns = [OutboxEvent.__table__.c[field.name] for field in dataclasses.fields(bus.Event)]
    return _unhandled(select(*columns)).order_by(OutboxEvent.id).limit(batch).with_for_update(skip_locked=True)


# Claimed as plain rows on the driver: loading them as ORM objects, only to copy each into
# a bus.Event, was about 7 % of the worker's time per routed lead.
_CLAIM = PlainStatement(_claimable(bindparam("batch")))


def mark_processed(session: Session, ids: Sequence[int]) -> None:
    """The events are handled: one UPDATE for the batch, where marking each row through
    the ORM cost a statement per event, each at a flush of its own."""
    if ids:
        read(session, update(OutboxEvent).where(among(session, OutboxEvent.id, ids)).values(processed_at=utcnow()))


_DUE_DELIVERY = PlainStatement(_due_deliveries(select(EventDelivery.id), bindparam("now")).limit(1))
_DUE_ACTION = PlainStatement(_due_actions(select(ScheduledAction.id), bindparam("now")).limit(1))


def _any_due(statement: PlainStatement, now: datetime) -> bool:
    """Whether ``statement`` finds work due at ``now``: a read, which takes no write turn.
    Finding out in the write transaction itself made every pass take SQLite's one writer
    three times, twice for nothing, while the requests that feed the worker waited."""
    with session_scope(write=False) as session:
        return bool(read(session, statement, {"now": now}))


T = TypeVar("T")
Claim = Callable[[Session, "list[int] | None"], Sequence[T]]


def run_batch(claim: Claim[T], work: Callable[[Session, Sequence[T]], None]) -> int:
    """Claim a batch and work it in one transaction, optimistically: rerun-safe items run
    without savepoints. If anything fails, the transaction is rolled back and the same
    items (those still unclaimed) are worked again with a savepoint per item, so the
    failure is isolated and recorded as before. Returns how many items were claimed."""
    claimed: list[int] = []
    try:
        with session_scope() as session:
            unit_of_work(session).optimistic = True
            items = claim(session, None)
            claimed = [item.id for item in items]  # type: ignore[attr-defined]
            work(session, items)
        return len(claimed)
    except Exception:  # noqa: BLE001 - run again below, one savepoint per item
        if not claimed:
            raise
        log.info("a batch of %d failed; running it again item by item", len(claimed))
    with session_scope() as session:
        items = claim(session, claimed)
        work(session, items)
        return len(claimed)


class Worker:
    def __init__(self, *, name: str | None = None, batch_size: int | None = None, look_ahead: bool | None = None) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = batch_size or get_settings().worker_batch_size
        # Due timers and webhook retries each run a handler, some of which wait on the
        # network (a webhook's POST) inside the transaction: never more than 200 in one.
        self.timer_batch_size = min(self.batch_size, TIMER_BATCH_AT_MOST)
        # On SQLite, work out what a batch can ahead of its write transaction (``_foresee``):
        # always, never, or (None) while other processes' writes keep this one waiting.
        self.look_ahead = look_ahead
        self._stop = threading.Event()

    # -- one pass of each kind of work; each returns how many items it handled --

    def drain_outbox_once(self) -> int:
        foreseen: dict[str, Any] = {}
        if self._looks_ahead():
            ahead = self._foresee()
            if ahead is None:
                return 0
            foreseen = ahead

        def claim(session: Session, ids: list[int] | None) -> list[bus.Event]:
            if ids is None:
                return self._oldest_unhandled(session)
            rows = session.execute(_claimable(self.batch_size).where(OutboxEvent.id.in_(ids))).all()
            return [bus.Event(*row) for row in rows]

        def work(session: Session, events: Sequence[bus.Event]) -> None:
            bus.prepare_batch(session, list(events), foreseen)
            for event in events:
                dispatch(session, event)
            mark_processed(session, [event.id for event in events])

        return run_batch(claim, work)

    def _oldest_unhandled(self, session: Session) -> list[bus.Event]:
        """A batch of the oldest unhandled events (locked for this worker on PostgreSQL)."""
        return [bus.Event(*row) for row in read(session, _CLAIM, {"batch": self.batch_size})]

    def _looks_ahead(self) -> bool:
        """Looking ahead reads twice some of what the batch reads (about a seventh more of
        the worker's time per routed lead): worth it only while another writer waits for
        the turn, as the API's requests do under load. A worker alone does not."""
        if self.look_ahead is False or get_engine().dialect.name != "sqlite":
            return False
        return self.look_ahead or kept_waiting_lately(LOOK_AHEAD_AFTER_WAIT_SECONDS)

    def _foresee(self) -> dict[str, Any] | None:
        """On SQLite, before the batch's write transaction: the events waiting (None: none)
        and what their subscribers work out ahead, in a read transaction, while the API's
        writes go on. Those writes and this worker's batches take turns on SQLite's one
        writer; the comparisons done here no longer hold the turn (about a fifth of a
        routed lead's time in it)."""
        try:
            with read_only_scope() as session:
                events = self._oldest_unhandled(session)
                return bus.foresee_batch(session, events) if events else None
        except Exception:  # noqa: BLE001 - only a head start: the batch works it all out in its transaction
            log.warning("working out a batch ahead failed; the batch does it itself", exc_info=True)
            return {}

    def retry_deliveries_once(self) -> int:
        now = utcnow()
        if not _any_due(_DUE_DELIVERY, now):
            return 0
        with session_scope() as session:
            deliveries = session.scalars(
                _due_deliveries(select(EventDelivery), now)
                .order_by(EventDelivery.next_attempt_at)
                .limit(self.timer_batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for delivery in deliveries:
                row = session.get(OutboxEvent, delivery.event_id)
                sub = bus.subscription(delivery.subscriber)
                if row is None or sub is None:
                    delivery.status = "dead"
                    delivery.last_error = "event or subscriber no longer exists"
                    continue
                error = _run_subscriber(session, sub, bus.Event.from_row(row))
                delivery.attempts += 1
                if error is None:
                    delivery.status = "done"
                    delivery.last_error = None
                else:
                    delivery.last_error = error
                    if delivery.attempts >= MAX_ATTEMPTS:
                        delivery.status = "dead"
                    else:
                        delivery.next_attempt_at = now + backoff(delivery.attempts)
            return len(deliveries)

    def run_due_actions_once(self) -> int:
        now = utcnow()
        if not _any_due(_DUE_ACTION, now):
            return 0

        def claim(session: Session, ids: list[int] | None) -> Sequence[ScheduledAction]:
            stmt = _due_actions(select(ScheduledAction), now)
            stmt = stmt.where(ScheduledAction.id.in_(ids)) if ids is not None else stmt
            return session.scalars(
                stmt.order_by(ScheduledAction.run_at).limit(self.timer_batch_size).with_for_update(skip_locked=True)
            ).all()

        def work(session: Session, actions: Sequence[ScheduledAction]) -> None:
            by_kind: dict[str, list[ScheduledAction]] = {}
            for action in actions:
                by_kind.setdefault(action.kind, []).append(action)
            for kind, same_kind in by_kind.items():
                registered = bus.action_kind(kind)
                if registered is not None and registered.prepare is not None:
                    registered.prepare(session, same_kind)
            for action in actions:
                self._run_action(session, action)

        return run_batch(claim, work)

    def _run_action(self, session: Session, action: ScheduledAction) -> None:
        registered = bus.action_kind(action.kind)
        action.attempts += 1
        if registered is None:
            action.status = "dead"
            action.last_error = f"no handler for action kind {action.kind!r}"
            return
        if registered.rerun_safe and bus.optimistic(session):
            registered.handler(session, action)
            self._finish_action(action)
            return
        try:
            with session.begin_nested():
                registered.handler(session, action)
        except Exception:  # noqa: BLE001
            log.exception("scheduled action %s (%s) failed", action.id, action.kind)
            action.last_error = traceback.format_exc(limit=5)
            if action.attempts >= MAX_ATTEMPTS:
                action.status = "dead"
            else:
                action.run_at = utcnow() + backoff(action.attempts)
            return
        self._finish_action(action)

    @staticmethod
    def _finish_action(action: ScheduledAction) -> None:
        if action.status == "pending":  # a handler may reschedule itself or cancel
            action.status = "done"
            action.finished_at = utcnow()

    def _pass(self) -> list[int]:
        return [self.drain_outbox_once(), self.retry_deliveries_once(), self.run_due_actions_once()]

    def run_once(self) -> int:
        with origins.acting("worker", via=self.name):
            return sum(self._pass())

    def run_until_idle(self, *, max_rounds: int = 10_000) -> int:
        """Work until nothing is left that is due now (tests, CLI ``--once``)."""
        total = 0
        for _ in range(max_rounds):
            handled = self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    def run_forever(self, *, poll_seconds: float = 0.5) -> None:
        log.info("worker %s started", self.name)
        statistics_due = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= statistics_due:
                    statistics_due = time.monotonic() + STATISTICS_EVERY_SECONDS
                    refresh_statistics()
                with origins.acting("worker", via=self.name):
                    events, retries, timers = self._pass()
                    backlog = events >= self.batch_size or max(retries, timers) >= self.timer_batch_size
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker
                log.exception("worker pass failed")
                backlog = False
            # Go straight on only while a full batch says more is waiting: passes that pick up
            # a few events each would keep the database's write lock (and, in-process, the
            # GIL) busy for the requests that produce those events. Events that wait cut the
            # wait short, after a moment that lets more gather.
            if not backlog and self._events_wait(poll_seconds) and not self._stop.is_set():
                self._stop.wait(min(GATHER_SECONDS, poll_seconds))
        log.info("worker %s stopped", self.name)

    def _events_wait(self, poll_seconds: float) -> bool:
        """Wait up to ``poll_seconds`` for events to handle: a commit in this process that
        recorded some says so at once, one in another process (the API's, for a worker of
        its own) is seen by a look at the outbox's pending index every WAKE_CHECK_SECONDS."""
        deadline = time.monotonic() + poll_seconds
        looking = True
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if bus.events_committed.wait(min(WAKE_CHECK_SECONDS, remaining) if looking else remaining):
                bus.events_committed.clear()
                return True
            if looking:
                try:
                    if outbox_pending():
                        return True
                except Exception:  # noqa: BLE001 - the database is away: wait out the poll, the next pass reports it
                    log.debug("looking at the outbox failed", exc_info=True)
                    looking = False
        return False

    def stop(self) -> None:
        self._stop.set()
        bus.events_committed.set()

    def start_in_thread(self, *, poll_seconds: float = 0.5) -> threading.Thread:
        thread = threading.Thread(
            target=self.run_forever, kwargs={"poll_seconds": poll_seconds}, name="pipewise-worker", daemon=True
        )
        thread.start()
        return thread
