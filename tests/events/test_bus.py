"""The event bus: outbox rows written in the caller's transaction, pattern subscriptions,
idempotent durable timers."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from pipewise.db.base import utcnow
from pipewise.events import bus
from pipewise.events.base import DomainEvent, RecordEvent
from pipewise.events.models import OutboxEvent, ScheduledAction

pytestmark = pytest.mark.usefixtures("clean_bus")


@dataclass(frozen=True, kw_only=True)
class DealWon(DomainEvent):
    name: ClassVar[str] = "deal.won"
    record_type: ClassVar[str] = "deal"

    amount: str = "0"
    tags: tuple[str, ...] = ()


def _noop(_session, _event):  # type: ignore[no-untyped-def]
    pass


class TestRecord:
    def test_writes_an_outbox_row_with_the_event(self, session):
        record_id, actor_id = uuid.uuid4(), uuid.uuid4()
        bus.record(session, DealWon(record_id=record_id, actor_id=actor_id, amount="12.50", tags=("a", "b")))
        session.commit()

        row = session.scalars(select(OutboxEvent)).one()
        assert (row.name, row.record_type, row.record_id, row.actor_id) == ("deal.won", "deal", record_id, actor_id)
        assert row.payload == {"data": {"amount": "12.50", "tags": ["a", "b"]}}
        assert row.processed_at is None
        assert row.occurred_at <= utcnow()

    def test_record_events_are_named_after_type_and_action(self, session):
        bus.record(session, RecordEvent(action="updated", type_name="contact", changes={"email": [None, "a@b.c"]}))
        session.commit()

        row = session.scalars(select(OutboxEvent)).one()
        assert (row.name, row.record_type) == ("contact.updated", "contact")
        assert row.payload["changes"] == {"email": [None, "a@b.c"]}

    def test_rolled_back_transaction_leaves_no_event(self, session):
        bus.record(session, DealWon())
        session.flush()
        session.rollback()

        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0

    def test_event_from_row_is_detached(self, session):
        bus.record(session, DealWon(amount="5"))
        session.commit()
        row = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(1)).one()

        event = bus.Event.from_row(row)
        session.close()
        assert (event.id, event.name, event.payload["data"]["amount"]) == (row.id, "deal.won", "5")


class TestSubscribe:
    def test_patterns_select_matching_events(self):
        bus.subscribe("deal.*", name="deals")(_noop)
        bus.subscribe("deal.won", name="won")(_noop)
        bus.subscribe("*.created", name="created")(_noop)

        assert {s.subscriber for s in bus.subscriptions_for("deal.won")} == {"deals", "won"}
        assert {s.subscriber for s in bus.subscriptions_for("deal.created")} == {"deals", "created"}
        assert {s.subscriber for s in bus.subscriptions_for("contact.created")} == {"created"}
        assert bus.subscriptions_for("contact.updated") == []

    def test_matching_is_case_sensitive_and_whole_name(self):
        bus.subscribe("deal", name="exact")(_noop)

        assert bus.subscriptions_for("deal.won") == []
        assert bus.subscriptions_for("DEAL") == []
        assert [s.subscriber for s in bus.subscriptions_for("deal")] == ["exact"]

    def test_default_name_is_the_handlers_dotted_path(self):
        handler = bus.subscribe("x.*")(_noop)

        assert handler is _noop
        assert bus.subscription(f"{__name__}._noop") is not None

    def test_registering_the_same_name_replaces_and_unsubscribe_removes(self):
        bus.subscribe("a.*", name="s")(_noop)
        bus.subscribe("b.*", name="s")(_noop)
        assert bus.subscriptions_for("a.x") == []
        assert len(bus.subscriptions_for("b.x")) == 1

        bus.unsubscribe("s")
        bus.unsubscribe("s")  # a second time is harmless
        assert bus.subscription("s") is None


    def test_a_batch_is_prepared_per_subscriber_with_its_events_in_order(self, session):
        prepared: list[tuple[str, list[int]]] = []

        def preparer(name: str):  # type: ignore[no-untyped-def]
            return lambda _session, events: prepared.append((name, [event.id for event in events]))

        bus.subscribe("deal.*", name="deals", prepare=preparer("deals"))(_noop)
        bus.subscribe("*.created", name="created", prepare=preparer("created"))(_noop)
        bus.subscribe("*", name="no-prepare")(_noop)
        bus.subscribe("lead.*", name="leads", prepare=preparer("leads"))(_noop)
        names = ["deal.won", "contact.created", "deal.created", "deal.won", "task.done"]
        events = [bus.Event(n, name, "x", None, None, {}, utcnow()) for n, name in enumerate(names)]

        bus.prepare_batch(session, events)

        assert prepared == [("deals", [0, 2, 3]), ("created", [1, 2])]

class TestSchedule:
    def test_inserts_a_pending_action(self, session):
        run_at = utcnow() + timedelta(hours=1)
        bus.schedule(session, key="k1", kind="mail.send", run_at=run_at, payload={"to": "a@b.c"})
        session.commit()

        action = session.scalars(select(ScheduledAction)).one()
        assert (action.key, action.kind, action.status, action.attempts) == ("k1", "mail.send", "pending", 0)
        assert action.payload == {"to": "a@b.c"}
        assert action.run_at == run_at

    def test_same_key_twice_is_one_action_and_keeps_the_first(self, session):
        first = utcnow() + timedelta(minutes=5)
        bus.schedule(session, key="same", kind="a", run_at=first)
        session.commit()
        bus.schedule(session, key="same", kind="b", run_at=first + timedelta(days=1), payload={"x": 1})
        bus.schedule(session, key="same", kind="c", run_at=first)
        session.commit()

        action = session.scalars(select(ScheduledAction)).one()
        assert (action.kind, action.payload) == ("a", {})

    def test_different_keys_are_different_actions(self, session):
        for key in ("k1", "k2", "k3"):
            bus.schedule(session, key=key, kind="a", run_at=utcnow())
        session.commit()

        assert session.scalar(select(func.count()).select_from(ScheduledAction)) == 3

    def test_a_timer_goes_out_with_the_transaction_and_not_with_a_rolled_back_savepoint(self, session):
        """Timers are written with the transaction's other new rows: a read sees them, the
        same key twice in one transaction is one timer (the first), and one scheduled in a
        savepoint that rolls back is gone with it."""
        bus.schedule(session, key="kept", kind="a", run_at=utcnow())
        bus.schedule(session, key="kept", kind="b", run_at=utcnow())
        assert session.scalars(select(ScheduledAction.kind)).all() == ["a"]
        savepoint = session.begin_nested()
        bus.schedule(session, key="undone", kind="a", run_at=utcnow())
        savepoint.rollback()
        bus.schedule(session, key="after", kind="a", run_at=utcnow())
        session.commit()
        assert sorted(session.scalars(select(ScheduledAction.key))) == ["after", "kept"]

    def test_action_handler_registry(self):
        @bus.handles_action("mail.send")
        def send(_session, _action):  # type: ignore[no-untyped-def]
            pass

        assert bus.action_kind("mail.send").handler is send
        assert bus.action_kind("unknown") is None
