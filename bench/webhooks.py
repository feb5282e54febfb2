"""Webhook deliveries per second to a local receiver, on PostgreSQL, with worker processes.

    python -m bench.webhooks --postgres postgresql+psycopg://…/<a *bench* database> [--events 5000] [--workers 2]

One endpoint subscribes to ``bench.*``; ``--events`` events of that name (about a contact,
which no other part of Pipewise takes, so only the webhook work and the automation engine's
look at every event are measured) are committed to the outbox, then ``--workers`` worker processes (the same ``Worker`` as ``pipewise worker``)
start together and run until every message is delivered: the fan-out from the outbox, the
timers, the signing, the POSTs and the attempt log all count. The receiver is a minimal
ASGI app under uvicorn in a process of its own, answering 200 to each POST (it is told
the loopback address is allowed, as an operator would). Baseline: the same number of
POSTs of the same bodies, each signed with HMAC-SHA256, from one client to the same
receiver — one after the other on one connection, and on 32 threads like a worker's
sends. The database is wiped (its name must contain 'bench')."""

import argparse
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from bench.env import fresh_database, postgres_target, use_database
from bench.http import _free_port, _wait_until_listening
from pipewise.events.base import DomainEvent

TARGET_PER_SECOND = 1_000
ALLOW = {"PIPEWISE_OUTBOUND_ALLOW": "127.0.0.1"}


@dataclass(frozen=True, kw_only=True)
class BenchEvent(DomainEvent):
    name: ClassVar[str] = "bench.contact_changed"
    record_type: ClassVar[str | None] = "contact"


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every POST with 200 and counts it; a GET answers the count."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    counts = receiver_app.__dict__.setdefault("counts", [0])
    if scope["method"] == "POST":
        counts[0] += 1
    body = json.dumps({"received": counts[0]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def running_receiver() -> Iterator[str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bench.webhooks:receiver_app", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log", "--log-level", "warning", "--lifespan", "off"]
    with subprocess.Popen(cmd) as process:
        try:
            _wait_until_listening(port, process)
            yield f"http://127.0.0.1:{port}/hooks"
        finally:
            process.terminate()


def received(url: str) -> int:
    return int(httpx.get(url).json()["received"])


def failed_attempts() -> int:
    """Attempts that failed (each was made again later: the figure includes the wait)."""
    from sqlalchemy import func, select

    from pipewise.db.session import session_scope
    from pipewise.integrations.webhooks.models import WebhookAttempt

    with session_scope(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(WebhookAttempt)
                                  .where(WebhookAttempt.outcome != "delivered")) or 0)


def seed(events: int, receiver: str) -> list[bytes]:
    """The endpoint and ``events`` committed contact events; returns bodies of their size."""
    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.db.base import uuid7
    from pipewise.db.session import session_scope
    from pipewise.events import bus
    from pipewise.integrations.webhooks import service

    with session_scope() as session:
        service.create(session, {"url": receiver, "event_types": ["bench.*"]}, actor=SYSTEM_ACTOR)
    for start in range(0, events, 1000):
        with session_scope() as session:
            for n in range(start, min(start + 1000, events)):
                changes = {"email": [None, f"person{n}@example.com"], "last_name": [None, f"Person {n}"]}
                bus.record(session, BenchEvent(record_id=uuid7(), data={"changes": changes}))
    return [json.dumps({"type": "contact.updated", "timestamp": "2026-12-04T16:00:00.000000Z",
                        "data": {"record_id": str(uuid7()), "changes": {"email": [None, f"p{n}@example.com"]}}}).encode()
            for n in range(events)]


def _work(url: str, name: str, start: Any, results: Any) -> None:
    from sqlalchemy import func, select

    from pipewise import domains
    from pipewise.db.session import session_scope
    from pipewise.events.models import OutboxEvent
    from pipewise.integrations.webhooks.models import UNFINISHED, WebhookMessage
    from pipewise.worker.runner import Worker

    logging.basicConfig(level=logging.WARNING)
    os.environ.update(ALLOW)
    use_database(url)
    domains.load()

    def left() -> int:
        with session_scope(write=False) as session:
            pending = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
            unfinished = select(func.count()).select_from(WebhookMessage).where(WebhookMessage.status.in_(UNFINISHED))
            return int(session.scalar(pending) or 0) + int(session.scalar(unfinished) or 0)

    left()  # connected before the clock starts
    worker = Worker(name=name)
    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    while worker.run_once() or left():
        pass
    results.put((began, time.monotonic(), time.process_time() - cpu))


def deliver(url: str, workers: int) -> tuple[float, float]:
    """Seconds from the workers' start until all is delivered, and their CPU seconds."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(workers + 1), context.Queue()
    processes = [context.Process(target=_work, args=(url, f"bench-{n}", start, results)) for n in range(workers)]
    for process in processes:
        process.start()
    start.wait(timeout=120)
    collected = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return max(c[1] for c in collected) - min(c[0] for c in collected), sum(c[2] for c in collected)


def raw_posts(receiver: str, bodies: list[bytes], threads: int) -> float:
    """Seconds for the same number of HMAC-signed POSTs from one client."""
    key = os.urandom(24)

    with httpx.Client(timeout=15) as client:
        def post(body: bytes) -> None:
            stamp = str(int(time.time()))
            digest = hmac.new(key, b"msg_x." + stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers = {"content-type": "application/json", "webhook-signature": digest}
            try:
                client.post(receiver, content=body, headers=headers)
            except httpx.TransportError:  # a pooled connection the receiver closed: once more, as a sender would
                client.post(receiver, content=body, headers=headers)

        began = time.monotonic()
        if threads == 1:
            for body in bodies:
                post(body)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(post, bodies))
        return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--postgres", metavar="URL", required=True, help="a PostgreSQL database (wiped; its name has 'bench')")
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.update(ALLOW)
    url = fresh_database(postgres_target(args.postgres), "webhooks")
    print(f"load average at start: {os.getloadavg()}")
    with running_receiver() as receiver:
        bodies = seed(args.events, receiver)
        seconds, cpu = deliver(url, args.workers)
        delivered, failures = received(receiver), failed_attempts()
        one = raw_posts(receiver, bodies, 1)
        many = raw_posts(receiver, bodies, 32)
    rate = args.events / seconds
    print(f"{args.events} messages, {delivered} requests received, delivered by {args.workers} workers in {seconds:.2f} s: {rate:,.0f} deliveries/s "
          f"({cpu:.1f} worker CPU-s, {1000 * cpu / max(delivered, 1):.2f} ms per delivery) — target {TARGET_PER_SECOND:,}/s: "
          f"{'met' if rate >= TARGET_PER_SECOND else 'not met'}; {failures} failed attempts")
    print(f"raw: {args.events / one:,.0f} signed POSTs/s on one connection, {args.events / many:,.0f}/s on 32 threads")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
