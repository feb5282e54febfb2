"""Crash test on PostgreSQL: 10,000 enrollments with waits and a webhook step, worked by
three worker processes while one of them is killed with SIGKILL at random moments, at
least 20 times. At the end every step ran, and the receiver acted on each idempotency
key exactly once (a call in flight when a worker died may arrive twice; the receiver
drops the repeat by its key)."""

import multiprocessing
import os
import random
import signal
import time
import uuid

import pytest
from sqlalchemy import func, insert, select

from pipewise.automation.models import Effect, Enrollment, RecordTag
from pipewise.crm.models import Contact
from pipewise.db.base import utcnow, uuid7
from pipewise.events.models import OutboxEvent, ScheduledAction
from tests.automation.crash_worker import work
from tests.automation.receiver import running_receiver
from tests.automation.support import make_workflow
from tests.conftest import IS_POSTGRES

ENROLLMENTS = int(os.environ.get("PIPEWISE_CRASH_ENROLLMENTS", "10000"))
KILLS = 20
# The test gives up only when no enrollment finishes for this long (a busy machine is slow, not wrong).
STALL_SECONDS = 300
SECRET = "crash-test-secret"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(5400),
    pytest.mark.skipif(not IS_POSTGRES, reason="several worker processes need PostgreSQL; set PIPEWISE_DATABASE_URL"),
]


def _contacts_with_events(session, n: int) -> list[uuid.UUID]:
    ids = [uuid7() for _ in range(n)]
    now = utcnow()
    session.execute(insert(Contact), [{"id": i, "last_name": f"Crash {k}", "custom": {}, "created_at": now, "updated_at": now,
                                       "lifecycle_stage": "lead", "consent_state": "unknown"} for k, i in enumerate(ids)])
    session.execute(insert(OutboxEvent), [{"name": "contact.created", "record_type": "contact", "record_id": i,
                                           "payload": {"action": "created", "type_name": "contact", "changes": {}},
                                           "occurred_at": now} for i in ids])
    return ids


def _finished(session) -> int:
    return session.scalar(select(func.count()).where(Enrollment.status == "completed"))


def test_killed_workers_lose_no_step_and_repeat_no_effect(session, database):
    with running_receiver(SECRET) as receiver:
        make_workflow(session, {
            "trigger": {"type": "record_created", "record_type": "contact"},
            "steps": [
                {"id": "pause", "type": "wait", "duration": "1s"},
                {"id": "hook", "type": "webhook", "url": receiver.url, "secret": SECRET},
                {"id": "settle", "type": "wait", "duration": "1s"},
                {"id": "tag", "type": "add_tag", "tag": "done"},
            ],
        })
        ids = _contacts_with_events(session, ENROLLMENTS)
        session.commit()

        ctx = multiprocessing.get_context("spawn")
        start = lambda name: ctx.Process(target=work, args=(database, name), daemon=True)  # noqa: E731
        workers = [start(f"steady-{i}") for i in (1, 2)] + [start("victim-0")]
        for process in workers:
            process.start()
        kills = 0
        rng = random.Random(20261123)
        progress, last_change = -1, time.monotonic()
        try:
            while time.monotonic() - last_change < STALL_SECONDS:
                time.sleep(rng.uniform(0.3, 1.5))
                session.rollback()
                done = _finished(session)
                if done != progress:
                    progress, last_change = done, time.monotonic()
                if kills >= KILLS:
                    if done == ENROLLMENTS:
                        break
                    continue
                if done == ENROLLMENTS:
                    break  # every kill must land while there is work to lose
                os.kill(workers[2].pid, signal.SIGKILL)
                workers[2].join()
                kills += 1
                workers[2] = start(f"victim-{kills}")
                workers[2].start()
        finally:
            for process in workers:
                process.terminate()
            for process in workers:
                process.join(timeout=30)

        session.rollback()
        assert kills >= KILLS
        assert _finished(session) == ENROLLMENTS
        statuses = dict(session.execute(select(Enrollment.status, func.count()).group_by(Enrollment.status)).all())
        assert statuses == {"completed": ENROLLMENTS}
        assert session.scalar(select(func.count()).select_from(RecordTag)) == ENROLLMENTS
        assert session.scalar(select(func.count()).where(ScheduledAction.status.in_(("pending", "dead")))) == 0
        assert session.scalar(select(func.count()).where(Effect.status == "succeeded")) == ENROLLMENTS

        expected = {f"wf:{e.version_id.hex}:{e.id.hex}:hook" for e in session.scalars(select(Enrollment))}
        assert len(receiver.accepted) == ENROLLMENTS
        assert set(receiver.accepted) == expected  # every key acted on, each exactly once
        assert receiver.bad_signatures == 0
        repeats = sum(receiver.deliveries.values()) - len(receiver.deliveries)
        print(f"\n{len(ids)} enrollments, {kills} kills, {repeats} repeated deliveries dropped by key")
        assert repeats <= kills  # at most the call in flight when a worker died
