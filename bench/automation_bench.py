"""Automation benchmarks on PostgreSQL.

    python -m bench.automation_bench timers --url postgresql+psycopg://…/pw_bench [--sizes 1000,100000,1000000]
    python -m bench.automation_bench steps --url … [--enrollments 2000] [--workers 3] [--via-timers]
    python -m bench.automation_bench latency --url … [--rate 100] [--seconds 30] [--workers 2]

``timers``: with N timers pending in the future, the raw insert rate of those rows, the
time of a worker tick with nothing due, and how long a due step waits before it runs —
claiming due work walks a partial index from its oldest entry, so it must not grow with N.
``steps``: workflow steps per second, several worker processes draining enrollments that
each run four steps. ``latency``: contacts created at a steady rate, each starting a
one-step workflow; the time from the event to the step's action, p50 and p99. Each run wipes the database it is given (its name must contain
'bench') and prints a Markdown table."""

import argparse
import multiprocessing
import statistics
import time
from datetime import timedelta

from sqlalchemy import func, insert, select, text, update

from bench.env import fresh_database, postgres_target, use_database

NOOP = "bench.noop"


def _timer_rows(n: int, start: int) -> list[dict]:
    from pipewise.db.base import utcnow

    later = utcnow() + timedelta(days=30)
    return [
        {"key": f"bench:{start + i}", "kind": NOOP, "payload": {}, "run_at": later + timedelta(seconds=i % 86400), "status": "pending"}
        for i in range(n)
    ]


def timers(url: str, sizes: list[int]) -> None:
    from pipewise.db.base import utcnow
    from pipewise.db.session import session_scope
    from pipewise.events import bus
    from pipewise.events.models import ScheduledAction
    from pipewise.worker.runner import Worker

    ran: list[float] = []
    bus.handles_action(NOOP)(lambda session, action: ran.append(time.perf_counter()))
    fresh_database(postgres_target(url), "automation_timers")
    worker = Worker(name="bench", batch_size=200)
    print("| pending timers | raw insert (rows/s) | idle tick p50 (ms) | idle tick max (ms) | due step waits p50 / p99 (ms) |")
    print("|---:|---:|---:|---:|---:|")
    inserted = 0
    for size in sizes:
        started = time.perf_counter()
        for offset in range(inserted, size, 20_000):
            with session_scope() as session:
                session.execute(insert(ScheduledAction), _timer_rows(min(20_000, size - offset), offset))
        rate = (size - inserted) / (time.perf_counter() - started)
        inserted = size
        with session_scope() as session:
            session.execute(text("ANALYZE scheduled_action"))
        ticks = []
        for _ in range(30):
            t0 = time.perf_counter()
            worker.run_due_actions_once()
            ticks.append((time.perf_counter() - t0) * 1000)
        waits = []
        for round_ in range(50):
            with session_scope() as session:
                bus.schedule(session, key=f"due:{size}:{round_}", kind=NOOP, run_at=utcnow())
            due_at = time.perf_counter()
            ran.clear()
            while not ran:
                worker.run_due_actions_once()
            waits.append((ran[0] - due_at) * 1000)
        waits.sort()
        print(f"| {size:,} | {rate:,.0f} | {statistics.median(ticks):.1f} | {max(ticks):.1f} | "
              f"{statistics.median(waits):.1f} / {waits[int(len(waits) * 0.99) - 1]:.1f} |")


def _work(url: str, name: str, ready) -> None:  # type: ignore[no-untyped-def]
    use_database(url)
    from pipewise import domains
    from pipewise.worker.runner import Worker

    domains.load()  # every domain's handlers, as `pipewise worker` has them
    worker = Worker(name=name, batch_size=200)
    ready.wait()  # imports and connections are not part of the measure
    worker.run_until_idle()


def _drain(url: str, workers: int) -> float:
    """Seconds for ``workers`` processes to work off everything due, from when all are ready."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(workers + 1)
    processes = [ctx.Process(target=_work, args=(url, f"bench-{n}", ready)) for n in range(workers)]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    return time.perf_counter() - started


def steps(url: str, enrollments: int, workers: int, via_timers: bool) -> None:
    """Without ``via_timers``: each contact.created event enrolls its contact and the four
    tag steps run at once in the event's transaction. With it: the enrollments first wait
    a minute (drained by one worker, not timed), then every timer is made due and the
    workers claim them and run the wait's end and the four steps."""
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.automation.models import Enrollment
    from pipewise.automation.service import workflow_service
    from pipewise.crm.models import Contact
    from pipewise.db.base import utcnow, uuid7
    from pipewise.db.session import session_scope
    from pipewise.events.models import OutboxEvent, ScheduledAction

    fresh_database(postgres_target(url), "automation_steps")
    tags = [{"id": f"s{i}", "type": "add_tag", "tag": f"t{i}"} for i in range(4)]
    wait = [{"id": "w", "type": "wait", "duration": "1m"}] if via_timers else []
    with session_scope() as session:
        workflow = workflow_service.create(
            session, name="bench", actor=SYSTEM_ACTOR,
            definition={"trigger": {"type": "record_created", "record_type": "contact"}, "steps": wait + tags},
        )
        workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
        ids, now = [uuid7() for _ in range(enrollments)], utcnow()
        session.execute(insert(Contact), [{"id": i, "last_name": "Bench", "custom": {}, "created_at": now, "updated_at": now,
                                           "lifecycle_stage": "lead", "consent_state": "unknown"} for i in ids])
        session.execute(insert(OutboxEvent), [{"name": "contact.created", "record_type": "contact", "record_id": i,
                                               "payload": {"changes": {}}, "occurred_at": now} for i in ids])
    if via_timers:
        _drain(url, 1)
        with session_scope() as session:
            session.execute(update(ScheduledAction).where(ScheduledAction.status == "pending").values(run_at=utcnow()))
    elapsed = _drain(url, workers)
    with session_scope(write=False) as session:
        done = session.scalar(select(func.count()).where(Enrollment.status == "completed"))
    total = done * len(tags)
    print(f"| how steps run | workers | enrollments | steps | seconds | steps/s | {'timers' if via_timers else 'events'}+steps/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    how = "claimed timers (wait ends, 4 tags)" if via_timers else "in the event's transaction (4 tags)"
    print(f"| {how} | {workers} | {done:,} | {total:,} | {elapsed:.1f} | {total / elapsed:,.0f} | {(total + done) / elapsed:,.0f} |")


def _work_forever(url: str, name: str) -> None:
    use_database(url)
    from pipewise import domains
    from pipewise.worker.runner import Worker

    domains.load()
    Worker(name=name, batch_size=200).run_forever(poll_seconds=0.05)


def latency(url: str, rate: int, seconds: int, workers: int) -> None:
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.automation.models import Decision
    from pipewise.automation.service import workflow_service
    from pipewise.crm.models import Contact
    from pipewise.db.base import utcnow, uuid7
    from pipewise.db.session import session_scope
    from pipewise.events.models import OutboxEvent

    fresh_database(postgres_target(url), "automation_latency")
    with session_scope() as session:
        workflow = workflow_service.create(
            session, name="latency", actor=SYSTEM_ACTOR,
            definition={"trigger": {"type": "record_created", "record_type": "contact"},
                        "steps": [{"id": "tag", "type": "add_tag", "tag": "seen"}]},
        )
        workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
    ctx = multiprocessing.get_context("spawn")
    processes = [ctx.Process(target=_work_forever, args=(url, f"bench-{n}"), daemon=True) for n in range(workers)]
    for process in processes:
        process.start()
    time.sleep(5)  # let the workers start
    sent: dict = {}
    started = time.perf_counter()
    for n in range(rate * seconds):
        time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        contact_id, now = uuid7(), utcnow()
        with session_scope() as session:
            session.execute(insert(Contact).values(id=contact_id, last_name="Latency", custom={}, created_at=now,
                                                   updated_at=now, lifecycle_stage="lead", consent_state="unknown"))
            session.execute(insert(OutboxEvent).values(name="contact.created", record_type="contact", record_id=contact_id,
                                                       payload={"changes": {}}, occurred_at=now))
        sent[contact_id] = now
    time.sleep(5)
    for process in processes:
        process.terminate()
    with session_scope(write=False) as session:
        acted = dict(session.execute(select(Decision.record_id, Decision.at).where(Decision.kind == "acted")).all())
    delays = sorted((acted[k] - at).total_seconds() * 1000 for k, at in sent.items() if k in acted)
    print("| rate (events/s) | seconds | workers | acted | p50 (ms) | p99 (ms) | max (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    p99 = delays[max(int(len(delays) * 0.99) - 1, 0)] if delays else float("nan")
    print(f"| {rate} | {seconds} | {workers} | {len(delays):,}/{len(sent):,} | "
          f"{statistics.median(delays) if delays else float('nan'):.0f} | {p99:.0f} | {max(delays, default=float('nan')):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("timers", "steps", "latency"))
    parser.add_argument("--url", required=True, help="PostgreSQL URL of a database whose name contains 'bench'")
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--enrollments", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--via-timers", action="store_true", help="steps: run them from claimed timers")
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    use_database(args.url)
    if args.what == "timers":
        timers(args.url, [int(s) for s in args.sizes.split(",")])
    elif args.what == "steps":
        steps(args.url, args.enrollments, args.workers, args.via_timers)
    else:
        latency(args.url, args.rate, args.seconds, args.workers)


if __name__ == "__main__":
    main()
