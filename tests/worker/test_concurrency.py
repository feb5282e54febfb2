"""Two worker processes drain one outbox on PostgreSQL: every event reaches every
subscriber exactly once, and the work is shared (``FOR UPDATE SKIP LOCKED``)."""

import pytest
from sqlalchemy import func, insert, select

from pipewise.events.models import EventDelivery, OutboxEvent
from tests.conftest import IS_POSTGRES
from tests.events.support import count_by, delivery_log
from tests.processes import context, worker_process
from tests.worker.drain_process import SUBSCRIBERS, drain

EVENTS = 10_000

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not IS_POSTGRES,
        reason="concurrent workers need PostgreSQL row locks; set PIPEWISE_DATABASE_URL=postgresql+psycopg://…",
    ),
]


def test_two_worker_processes_deliver_every_event_exactly_once(session, log_table, database):
    session.execute(
        insert(OutboxEvent),
        [{"name": "contact.created", "record_type": "contact", "payload": {"n": n}} for n in range(EVENTS)],
    )
    session.commit()

    start = context().Barrier(2)
    workers = [worker_process(drain, (database, f"worker-{i}", start, 100)) for i in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=240)
    assert [p.exitcode for p in workers] == [0, 0]

    rows = session.execute(
        select(delivery_log.c.subscriber, func.count(), func.count(delivery_log.c.event_id.distinct())).group_by(
            delivery_log.c.subscriber
        )
    ).all()
    assert sorted(rows) == [(s, EVENTS, EVENTS) for s in SUBSCRIBERS]
    per_worker = count_by(session, "worker")
    assert set(per_worker) == {"worker-1", "worker-2"}, per_worker
    assert all(n > 0 for n in per_worker.values())
    assert session.scalar(select(func.count()).where(OutboxEvent.processed_at.is_(None))) == 0
    assert session.scalar(select(func.count()).select_from(EventDelivery)) == 0

