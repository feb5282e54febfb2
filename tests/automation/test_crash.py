"""Crash test on PostgreSQL: 10,000 enrollments with waits and a webhook step, worked by
three worker processes while one of them is killed with SIGKILL, at least 20 times, each
time while it holds claimed work: the test waits until the victim's open transaction has
rows locked (claimed), and if it can, until the victim has made a webhook call in it, and
counts a kill only if that transaction was then rolled back.

At the end every step ran, and the receiver acted on each idempotency key exactly once.
A call in flight when a worker died may arrive again; every repeated delivery must be
that: the last call of a killed worker. Any other repeat, of any key, is a duplicated
effect and fails the test (``PIPEWISE_CRASH_BREAK_IDEMPOTENCY=1`` shows it does)."""

import os
import signal
import time
import uuid

import pytest
from sqlalchemy import func, insert, select, text

from pipewise.automation.models import Effect, Enrollment, RecordTag
from pipewise.crm.models import Contact
from pipewise.db.base import utcnow, uuid7
from pipewise.events.models import OutboxEvent, ScheduledAction
from tests.automation.crash_worker import work
from tests.automation.receiver import Delivery, Receiver, running_receiver
from tests.automation.support import make_workflow
from tests.conftest import IS_POSTGRES
from tests.processes import worker_process

ENROLLMENTS = int(os.environ.get("PIPEWISE_CRASH_ENROLLMENTS", "10000"))
KILLS = 20
# While kills are still to land, more enrollments arrive before the work runs out: on a fast
# or a busy machine the first batch can be done before every kill has landed on claimed work.
TOP_UP = max(1000, ENROLLMENTS // 5)
# The test gives up only when no enrollment finishes for this long (a busy machine is slow, not wrong).
STALL_SECONDS = 300
SECRET = "crash-test-secret"


# The victim's transaction, if it holds claimed rows: pending actions or unprocessed events it locked.
CLAIM = text("""
    SELECT a.backend_xid::text FROM pg_stat_activity a
    WHERE a.application_name = :name AND a.backend_xid IS NOT NULL AND (
        EXISTS (SELECT 1 FROM scheduled_action s WHERE s.xmax = a.backend_xid AND s.status = 'pending')
        OR EXISTS (SELECT 1 FROM outbox_event o WHERE o.xmax = a.backend_xid AND o.processed_at IS NULL))
    LIMIT 1
""")
# xid -> xid8 within the current epoch, for pg_xact_status.
OUTCOME = text("SELECT pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32) + :xid)::text::xid8)")


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


def _claimed_by(session, name: str, seconds: float) -> int | None:
    """Wait until worker ``name`` holds claimed work; the xid of its transaction."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        xid = session.execute(CLAIM, {"name": name}).scalar()
        session.rollback()
        if xid is not None:
            return int(xid)
        time.sleep(0.005)
    return None


def _first_call_of(receiver, name: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not any(d.worker == name for d in receiver.log[-200:]):
        time.sleep(0.002)


def _outcome(session, xid: int) -> str:
    """'aborted' once the killed worker's transaction is rolled back (or 'committed')."""
    deadline = time.monotonic() + 60
    while True:
        status = session.execute(OUTCOME, {"xid": xid}).scalar()
        session.rollback()
        if status != "in progress" or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


def test_a_repeat_is_explained_only_by_the_last_call_of_a_killed_worker():
    """The check below fails on a repeated effect: a key delivered again after a worker
    that was not killed, or not as the killed worker's last call, had already sent it."""
    receiver = Receiver("s")
    for key, worker in (("a", "victim-0"), ("b", "victim-0"), ("b", "steady-1"),  # b: in flight at the kill
                        ("c", "steady-1"), ("c", "steady-2"),  # c: sent twice by live workers
                        ("d", "victim-1"), ("e", "victim-1"), ("d", "steady-2")):  # d: not victim-1's last call
        receiver.log.append(Delivery(key, worker))
    assert receiver.unexplained_repeats({"victim-0", "victim-1"}) == {"c": ["steady-1", "steady-2"],
                                                                      "d": ["victim-1", "steady-2"]}


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(5400)
@pytest.mark.skipif(not IS_POSTGRES, reason="several worker processes need PostgreSQL; set PIPEWISE_DATABASE_URL")
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

        start = lambda name: worker_process(work, (database, name), daemon=True)  # noqa: E731
        workers = [start(f"steady-{i}") for i in (1, 2)] + [start("victim-0")]
        for process in workers:
            process.start()
        killed: set[str] = set()
        kills = missed = 0
        progress, last_change = -1, time.monotonic()
        try:
            while time.monotonic() - last_change < STALL_SECONDS:
                done = _finished(session)
                session.rollback()
                if done != progress:
                    progress, last_change = done, time.monotonic()
                if kills < KILLS and len(ids) - done < TOP_UP // 2:
                    ids += _contacts_with_events(session, TOP_UP)
                    session.commit()
                if done == len(ids):
                    break
                if kills >= KILLS:
                    time.sleep(0.5)
                    continue
                victim = f"victim-{len(killed)}"
                xid = _claimed_by(session, victim, seconds=5)
                if xid is None:
                    continue  # nothing claimed yet: look at the progress, then wait again
                _first_call_of(receiver, victim, seconds=2)  # best: a call made in the batch it will lose
                os.kill(workers[2].pid, signal.SIGKILL)
                workers[2].join()
                killed.add(victim)
                if _outcome(session, xid) == "aborted":
                    kills += 1  # it died holding claimed work, which it lost
                else:
                    missed += 1  # it committed just before the signal landed
                workers[2] = start(f"victim-{len(killed)}")
                workers[2].start()
        finally:
            for process in workers:
                process.terminate()
            for process in workers:
                process.join(timeout=30)

        session.rollback()
        duplicated = receiver.unexplained_repeats(killed)
        assert duplicated == {}, f"{len(duplicated)} keys delivered again by a worker that was not dying: " + str(
            dict(list(duplicated.items())[:5]))
        assert kills >= KILLS, f"only {kills} kills landed on claimed work ({missed} came after a commit)"
        total = len(ids)
        assert _finished(session) == total
        statuses = dict(session.execute(select(Enrollment.status, func.count()).group_by(Enrollment.status)).all())
        assert statuses == {"completed": total}
        assert session.scalar(select(func.count()).select_from(RecordTag)) == total
        assert session.scalar(select(func.count()).where(ScheduledAction.status.in_(("pending", "dead")))) == 0
        assert session.scalar(select(func.count()).where(Effect.status == "succeeded")) == total

        expected = {f"wf:{e.version_id.hex}:{e.id.hex}:hook" for e in session.scalars(select(Enrollment))}
        assert sorted(receiver.accepted) == sorted(expected)  # every key acted on, each exactly once
        assert receiver.bad_signatures == 0
        repeats = sum(receiver.deliveries.values()) - len(receiver.deliveries)
        print(f"\n{len(ids)} enrollments, {kills} kills on claimed work ({missed} missed), "
              f"{repeats} calls in flight at a kill delivered again and dropped by key")
