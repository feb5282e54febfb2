"""The worker on the configured database: dispatch, retries with backoff, dead letters,
scheduled actions and stopping. Subscribers write to a test-only table, so "committed"
means a row another session can read."""

import threading
import time
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from pipewise.config import get_settings
from pipewise.db import session as db_session
from pipewise.db.base import utcnow
from pipewise.events import bus
from pipewise.events.base import RecordEvent
from pipewise.events.models import EventDelivery, OutboxEvent, ScheduledAction
from pipewise.worker import runner
from pipewise.worker.runner import MAX_ATTEMPTS, Worker, backoff
from tests.db.turn_holder import turn_held_elsewhere
from tests.events.support import deliveries, log_delivery

pytestmark = pytest.mark.usefixtures("clean_bus", "log_table")


class Boom(RuntimeError):
    pass


def record_events(session, *names: str) -> list[int]:  # type: ignore[no-untyped-def]
    for name in names:
        type_name, _, action = name.partition(".")
        bus.record(session, RecordEvent(type_name=type_name, action=action))
    newest = session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(len(names))).all()
    session.commit()
    return sorted(newest)


def logging_subscriber(pattern: str, name: str) -> None:
    bus.subscribe(pattern, name=name)(lambda s, e: log_delivery(s, e.id, name))


def failing_subscriber(pattern: str, name: str, *, failures: int | None = None) -> list[int]:
    """Writes its row, then raises (the first ``failures`` times, or always)."""
    calls: list[int] = []

    def handler(session, event):  # type: ignore[no-untyped-def]
        calls.append(event.id)
        log_delivery(session, event.id, name)
        if failures is None or len(calls) <= failures:
            raise Boom(f"{name} failed on {event.id}")

    bus.subscribe(pattern, name=name)(handler)
    return calls


def make_due(session, model, column) -> None:  # type: ignore[no-untyped-def]
    session.execute(update(model).values({column: utcnow() - timedelta(seconds=1)}))
    session.commit()


def counted_transactions(monkeypatch) -> list[bool]:  # type: ignore[no-untyped-def]
    """Whether each transaction the worker opens from now on is a write one."""
    writes: list[bool] = []
    real_scope, real_read_only = runner.session_scope, runner.read_only_scope

    def counting_scope(*, write: bool = True):  # type: ignore[no-untyped-def]
        writes.append(write)
        return real_scope(write=write)

    def counting_read_only():  # type: ignore[no-untyped-def]
        writes.append(False)
        return real_read_only()

    monkeypatch.setattr(runner, "session_scope", counting_scope)
    monkeypatch.setattr(runner, "read_only_scope", counting_read_only)
    return writes


def one(session, model):  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh snapshot: the worker committed in its own session
    session.expire_all()  # and no stale objects (rollback outside a transaction expires nothing)
    return session.scalars(select(model)).one()


def test_backoff_doubles_from_five_seconds_and_caps_at_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(20) == timedelta(hours=1)


class TestDrainOutbox:
    def test_delivers_each_event_to_every_matching_subscriber(self, session):
        logging_subscriber("contact.*", "contacts")
        logging_subscriber("*.created", "created")
        logging_subscriber("deal.won", "won")
        created, updated, deal = record_events(session, "contact.created", "contact.updated", "deal.created")

        assert Worker().run_until_idle() == 3

        session.rollback()
        assert deliveries(session, "contacts") == [created, updated]
        assert deliveries(session, "created") == [created, deal]
        assert deliveries(session, "won") == []
        assert all(r.processed_at is not None for r in session.scalars(select(OutboxEvent)))

    def test_subscriber_receives_the_stored_event(self, session):
        seen: list[bus.Event] = []
        bus.subscribe("contact.*", name="seen")(lambda s, e: seen.append(e))
        bus.record(session, RecordEvent(type_name="contact", action="updated", changes={"email": ["a", "b"]}))
        session.commit()

        Worker().run_until_idle()

        (event,) = seen
        assert (event.name, event.record_type, event.payload["changes"]) == ("contact.updated", "contact", {"email": ["a", "b"]})

    def test_drains_many_batches_in_order_and_delivers_once(self, session):
        logging_subscriber("*", "all")
        ids = record_events(session, *["task.created"] * 25)

        worker = Worker(batch_size=4)
        assert worker.run_until_idle() == 25
        assert worker.run_until_idle() == 0

        session.rollback()
        assert deliveries(session, "all") == ids

    def test_a_worker_claims_as_many_events_as_its_setting_says(self, session, monkeypatch):
        logging_subscriber("*", "all")
        ids = record_events(session, *["task.created"] * 5)
        monkeypatch.setenv("PIPEWISE_WORKER_BATCH_SIZE", "3")
        get_settings.cache_clear()
        try:
            worker = Worker()
            assert (worker.drain_outbox_once(), worker.drain_outbox_once(), worker.drain_outbox_once()) == (3, 2, 0)
            monkeypatch.setenv("PIPEWISE_WORKER_BATCH_SIZE", "0")
            get_settings.cache_clear()
            with pytest.raises(ValidationError, match="worker_batch_size"):
                Worker()
        finally:
            monkeypatch.delenv("PIPEWISE_WORKER_BATCH_SIZE")
            get_settings.cache_clear()
        assert Worker().batch_size == 500
        session.rollback()
        assert deliveries(session, "all") == ids

    def test_events_without_subscribers_are_marked_processed(self, session):
        record_events(session, "nobody.listens")

        assert Worker().drain_outbox_once() == 1
        assert one(session, OutboxEvent).processed_at is not None

    def test_on_sqlite_a_batch_is_worked_out_ahead_while_other_writers_keep_the_worker_waiting(self, session, monkeypatch):
        """Alone, a worker looks for its batch in its write transaction. Once another
        process has kept it waiting for SQLite's write turn, it works its batches out
        ahead in a read transaction (``Worker._foresee``), which also says when nothing
        waits: the one writer is then not taken for nothing."""
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL's workers claim in their write transaction")
        writes = counted_transactions(monkeypatch)
        for turn in db_session._writer_turns.values():  # an earlier test may have kept this process waiting
            monkeypatch.setattr(turn, "last_kept_waiting", float("-inf"))
        worker = Worker()
        assert worker.drain_outbox_once() == 0
        assert writes == [True], "alone: no look ahead"
        record_events(session, "nobody.listens")
        session.commit()
        with turn_held_elsewhere():
            waiting = threading.Thread(target=worker.drain_outbox_once)
            waiting.start()
            time.sleep(0.2)  # the worker now waits for the turn
        waiting.join(10)
        assert writes[1:] == [True] and one(session, OutboxEvent).processed_at is not None
        assert worker.drain_outbox_once() == 0
        assert writes[2:] == [False], "kept waiting a moment ago: it looks ahead, and nothing waits"
        record_events(session, "nobody.listens")
        assert worker.drain_outbox_once() == 1
        assert writes[3:] == [False, True]
        assert Worker(look_ahead=False).drain_outbox_once() == 0
        assert writes[5:] == [True], "the in-process worker never looks ahead"
        monkeypatch.setattr(runner, "LOOK_AHEAD_AFTER_WAIT_SECONDS", 0.0)
        assert worker.drain_outbox_once() == 0
        assert writes[6:] == [True], "no longer kept waiting lately"


class TestFailingSubscriber:
    def test_failure_is_isolated_and_queued_for_retry(self, session):
        logging_subscriber("contact.*", "good")
        failing_subscriber("contact.*", "bad")
        (event_id,) = record_events(session, "contact.created")

        before = utcnow()
        Worker().run_until_idle()
        after = utcnow()

        session.rollback()
        assert deliveries(session, "good") == [event_id]
        assert deliveries(session, "bad") == []  # its savepoint was rolled back
        delivery = one(session, EventDelivery)
        assert (delivery.event_id, delivery.subscriber, delivery.status, delivery.attempts) == (event_id, "bad", "retry", 1)
        assert before + backoff(1) <= delivery.next_attempt_at <= after + backoff(1)
        assert "Boom: bad failed" in delivery.last_error
        assert one(session, OutboxEvent).processed_at is not None

    def test_retry_waits_for_the_backoff(self, session):
        failing_subscriber("contact.*", "bad")
        record_events(session, "contact.created")
        worker = Worker()
        worker.run_until_idle()

        assert worker.retry_deliveries_once() == 0
        assert one(session, EventDelivery).attempts == 1

    def test_retries_with_growing_backoff_then_goes_dead(self, session):
        logging_subscriber("contact.*", "good")
        calls = failing_subscriber("contact.*", "bad")
        (event_id,) = record_events(session, "contact.created")
        worker = Worker()
        worker.run_until_idle()

        for attempt in range(2, MAX_ATTEMPTS + 1):
            make_due(session, EventDelivery, "next_attempt_at")
            before = utcnow()
            assert worker.retry_deliveries_once() == 1
            delivery = one(session, EventDelivery)
            assert delivery.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert delivery.status == "retry"
                assert delivery.next_attempt_at - before >= backoff(attempt) - timedelta(seconds=1)
                assert delivery.next_attempt_at - before <= backoff(attempt) + timedelta(seconds=1)

        assert delivery.status == "dead"
        assert "Boom" in delivery.last_error
        assert calls == [event_id] * MAX_ATTEMPTS
        make_due(session, EventDelivery, "next_attempt_at")
        assert worker.run_until_idle() == 0  # dead deliveries are not retried
        assert deliveries(session, "good") == [event_id]  # the healthy subscriber ran once
        assert deliveries(session, "bad") == []

    def test_a_retry_that_succeeds_commits_its_effect(self, session):
        failing_subscriber("contact.*", "flaky", failures=1)
        (event_id,) = record_events(session, "contact.created")
        worker = Worker()
        worker.run_until_idle()

        make_due(session, EventDelivery, "next_attempt_at")
        assert worker.retry_deliveries_once() == 1

        delivery = one(session, EventDelivery)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("done", 2, None)
        assert deliveries(session, "flaky") == [event_id]

    def test_a_removed_subscriber_goes_dead(self, session):
        failing_subscriber("contact.*", "gone")
        record_events(session, "contact.created")
        worker = Worker()
        worker.run_until_idle()
        bus.unsubscribe("gone")

        make_due(session, EventDelivery, "next_attempt_at")
        worker.retry_deliveries_once()

        delivery = one(session, EventDelivery)
        assert delivery.status == "dead"
        assert "no longer exists" in delivery.last_error


def schedule(session, key: str, *, kind: str = "test.action", in_seconds: float = -1, payload=None) -> None:  # type: ignore[no-untyped-def]
    bus.schedule(session, key=key, kind=kind, run_at=utcnow() + timedelta(seconds=in_seconds), payload=payload)
    session.commit()


class TestScheduledActions:
    def test_runs_due_actions_once_with_their_payload(self, session):
        seen: list[tuple[str, dict]] = []
        bus.handles_action("test.action")(lambda s, a: seen.append((a.key, a.payload)))
        schedule(session, "a1", payload={"n": 1})

        worker = Worker()
        assert worker.run_due_actions_once() == 1
        assert worker.run_until_idle() == 0

        assert seen == [("a1", {"n": 1})]
        action = one(session, ScheduledAction)
        assert (action.status, action.attempts) == ("done", 1)
        assert action.finished_at is not None

    def test_due_actions_go_two_hundred_to_a_transaction_whatever_the_event_batch(self, session, monkeypatch):
        """A handler may wait on the network inside the transaction: the event batch's
        setting does not make timers' (or webhook retries') transactions longer."""
        bus.handles_action("test.action")(lambda s, a: None)
        for n in range(205):
            bus.schedule(session, key=f"a{n}", kind="test.action", run_at=utcnow() - timedelta(seconds=1), payload={})
        session.commit()
        worker = Worker(batch_size=1000)
        assert (worker.run_due_actions_once(), worker.run_due_actions_once()) == (200, 5)
        assert Worker(batch_size=3).timer_batch_size == 3

    def test_does_not_run_before_it_is_due(self, session):
        seen: list[str] = []
        bus.handles_action("test.action")(lambda s, a: seen.append(a.key))
        schedule(session, "later", in_seconds=3600)

        assert Worker().run_until_idle() == 0

        assert seen == []
        assert one(session, ScheduledAction).status == "pending"
        make_due(session, ScheduledAction, "run_at")
        assert Worker().run_until_idle() == 1
        assert seen == ["later"]

    def test_a_pass_with_nothing_due_takes_no_write_transaction(self, session, monkeypatch):
        """Retries and timers not due yet are found out by a read: on SQLite a write
        transaction would take the one writer from the requests for nothing."""
        bus.handles_action("test.action")(lambda s, a: None)
        schedule(session, "later", in_seconds=3600)
        failing_subscriber("deal.*", "flaky", failures=1)
        record_events(session, "deal.created")
        Worker().run_until_idle()  # the delivery fails and waits for its retry
        assert one(session, EventDelivery).status == "retry"
        writes = counted_transactions(monkeypatch)
        worker = Worker()
        assert (worker.retry_deliveries_once(), worker.run_due_actions_once()) == (0, 0)
        assert writes == [False, False]
        make_due(session, EventDelivery, "next_attempt_at")
        make_due(session, ScheduledAction, "run_at")
        assert (worker.retry_deliveries_once(), worker.run_due_actions_once()) == (1, 1)
        assert writes[2:] == [False, True, False, True]

    def test_scheduling_the_same_key_twice_runs_once(self, session):
        seen: list[str] = []
        bus.handles_action("test.action")(lambda s, a: seen.append(a.key))
        schedule(session, "once")
        schedule(session, "once")

        Worker().run_until_idle()
        schedule(session, "once")  # even after it ran
        Worker().run_until_idle()

        assert seen == ["once"]

    def test_handler_effects_commit_with_the_action(self, session):
        bus.handles_action("test.action")(lambda s, a: log_delivery(s, a.payload["n"], "action"))
        schedule(session, "k", payload={"n": 7})

        Worker().run_until_idle()

        session.rollback()
        assert deliveries(session, "action") == [7]

    def test_failure_rolls_back_the_effect_and_retries_with_backoff_then_dead(self, session):
        def handler(s, a):  # type: ignore[no-untyped-def]
            log_delivery(s, 1, "action")
            raise Boom("smtp down")

        bus.handles_action("test.action")(handler)
        schedule(session, "k")
        worker = Worker()

        for attempt in range(1, MAX_ATTEMPTS + 1):
            before = utcnow()
            assert worker.run_due_actions_once() == 1
            action = one(session, ScheduledAction)
            assert action.attempts == attempt
            assert "smtp down" in action.last_error
            if attempt < MAX_ATTEMPTS:
                assert action.status == "pending"
                assert backoff(attempt) - timedelta(seconds=1) <= action.run_at - before <= backoff(attempt) + timedelta(seconds=1)
                assert worker.run_due_actions_once() == 0  # not before the backoff
                make_due(session, ScheduledAction, "run_at")

        assert action.status == "dead"
        assert action.finished_at is None
        assert worker.run_until_idle() == 0
        assert deliveries(session, "action") == []

    def test_an_action_without_handler_goes_dead(self, session):
        schedule(session, "k", kind="nobody.handles")

        Worker().run_until_idle()

        action = one(session, ScheduledAction)
        assert (action.status, action.attempts) == ("dead", 1)
        assert "no handler" in action.last_error

    def test_a_handler_may_cancel_its_action(self, session):
        def handler(s, a):  # type: ignore[no-untyped-def]
            a.status = "cancelled"

        bus.handles_action("test.action")(handler)
        schedule(session, "k")

        Worker().run_until_idle()

        assert one(session, ScheduledAction).status == "cancelled"


class TestStop:
    def test_running_worker_handles_new_work_and_stops(self, session):
        delivered = threading.Event()
        bus.subscribe("contact.*", name="flag")(lambda s, e: delivered.set())
        worker = Worker()
        thread = worker.start_in_thread(poll_seconds=0.01)

        record_events(session, "contact.created")
        assert delivered.wait(timeout=30)
        worker.stop()
        thread.join(timeout=30)

        assert not thread.is_alive()
        assert one(session, OutboxEvent).processed_at is not None

    def test_an_idle_worker_finds_events_another_process_committed(self, session):
        delivered = threading.Event()
        bus.subscribe("contact.*", name="flag")(lambda s, e: delivered.set())
        worker = Worker()
        thread = worker.start_in_thread(poll_seconds=600)
        try:
            # Written as another process would: no signal in this one, only the row.
            session.add(OutboxEvent(name="contact.created", record_type="contact", payload={}))
            session.commit()
            assert delivered.wait(timeout=30), "the worker slept through its poll instead of looking at the outbox"
        finally:
            worker.stop()
            thread.join(timeout=30)

    def test_a_failed_look_at_the_outbox_does_not_stop_the_worker(self, session, monkeypatch):
        def database_away() -> bool:
            raise RuntimeError("the database is away")

        monkeypatch.setattr(runner, "outbox_pending", database_away)
        delivered = threading.Event()
        bus.subscribe("contact.*", name="flag")(lambda s, e: delivered.set())
        worker = Worker()
        thread = worker.start_in_thread(poll_seconds=0.05)
        try:
            time.sleep(0.3)  # several idle waits, each with a failed look
            record_events(session, "contact.created")
            assert delivered.wait(timeout=30)
            assert thread.is_alive()
        finally:
            worker.stop()
            thread.join(timeout=30)

    def test_stopped_worker_does_no_more_work(self, session):
        logging_subscriber("*", "all")
        worker = Worker()
        worker.stop()
        record_events(session, "contact.created")

        worker.run_forever(poll_seconds=0.01)  # returns at once

        session.rollback()
        assert deliveries(session) == []
        assert one(session, OutboxEvent).processed_at is None


class TestQueueReads:
    """The worker reads each queue by its partial index of the rows still to handle. On
    SQLite, statistics taken while the outbox was small (the worker refreshes them hourly)
    made the planner walk every handled event in id order instead, at each claim and each
    idle look: a cost that grew with the table."""

    def test_the_queues_are_read_by_their_partial_indexes_on_stale_statistics(self, session):
        from sqlalchemy import text

        from pipewise.db.plain_statement import PlainStatement

        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL's planner has current statistics from autovacuum")
        record_events(session, "deal.created")
        session.execute(text("ANALYZE"))  # the outbox counted at one row
        for _ in range(5):
            record_events(session, *["deal.updated"] * 200)
        session.execute(update(OutboxEvent).values(processed_at=utcnow()))
        session.commit()
        statements = {
            "ix_outbox_event_pending": [runner._CLAIM, runner._PENDING],
            "ix_scheduled_action_due": [runner._DUE_ACTION, PlainStatement(runner._due_actions(select(ScheduledAction), utcnow()))],
            "ix_event_delivery_due": [runner._DUE_DELIVERY, PlainStatement(runner._due_deliveries(select(EventDelivery), utcnow()))],
        }
        connection = session.connection().connection.driver_connection
        for index, reads in statements.items():
            for read in reads:
                plan = read._plan(session.get_bind().dialect)  # noqa: SLF001
                values = dict(plan.fixed, batch=200, now=utcnow())
                values.update({name: values["now"] for name in plan.names if name not in values})
                found = connection.execute(f"EXPLAIN QUERY PLAN {plan.sql}", plan.parameters(values)).fetchall()
                assert any(f"USING INDEX {index}" in row[-1] for row in found), (plan.sql, found)
        worker = Worker()
        assert (worker.drain_outbox_once(), worker.retry_deliveries_once(), worker.run_due_actions_once()) == (0, 0, 0)
