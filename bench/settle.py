"""What happens after a create commits: a ``pipewise worker`` process beside the benchmark,
and a watcher that notes when the worker has committed its handling of each event."""

import bisect
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bench import raw
from pipewise.events.models import OUTBOX_PENDING_INDEX

# How often the watcher reads the outbox: the resolution of the times it notes.
WATCH_EVERY = 0.01


@contextmanager
def worker_process(url: str, *, poll: float | None = None) -> Iterator[subprocess.Popen]:
    """``pipewise worker`` on ``url`` for the length of the block (given 3 s to start)."""
    command = [sys.executable, "-m", "pipewise.cli.main", "worker"]
    if poll is not None:
        command += ["--poll", str(poll)]
    process = subprocess.Popen(command, env={**os.environ, "PIPEWISE_DATABASE_URL": url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


class OutboxWatcher(threading.Thread):
    """Notes when the worker has committed its handling of each ``event`` of the records a
    benchmark created: every 10 ms, through a connection of its own, it reads the lowest id
    of an event still unhandled, by the partial index the worker claims by. That one read is
    all it asks of the database while the system it watches runs on the same cores.

    An event is handled at the first read that began after the event was committed (its
    create had answered) and found every lower id handled: ``settle`` works that out after
    the run, from one read of the events' ids. ``seen`` holds ``time.perf_counter()`` and
    ``seen_at`` ``time.time()``, by record id. (Reading the new events' ids as they came, every
    10 ms, was over a fifth of PostgreSQL's statement time in a routed run; asking after every
    pending event by id, before that, about a quarter of its time.)"""

    def __init__(self, url: str, event: str) -> None:
        super().__init__(daemon=True)
        self.url, self.event, self.stop = url, event, threading.Event()
        self.seen: dict[str, float] = {}
        self.seen_at: dict[str, float] = {}
        # Each read: when it began, when it ended (perf_counter, time.time) and what it found.
        self.reads: list[tuple[float, float, float, int | None]] = []

    def _connect(self):  # type: ignore[no-untyped-def]
        db = raw.connect(self.url)
        if not raw.is_sqlite(db):
            db.autocommit = True
        return db

    def run(self) -> None:
        db = self._connect()
        # By name on SQLite, as the worker reads it: with the planner's statistics taken while
        # the outbox was small, SQLite walked every handled event instead (a read cost 0.5 ms
        # of CPU at the start of a routed run and 2 ms at its end). On PostgreSQL a plain index
        # scan (it reads a column the index lacks), not min(id): an index-only scan steps over
        # the handled events' dead index entries at every read until a vacuum (0.47 ms a read
        # in a routed run), where an index scan marks them as it passes, so that later reads
        # skip them (0.03 ms).
        lowest_unhandled = (
            f"SELECT min(id) FROM outbox_event INDEXED BY {OUTBOX_PENDING_INDEX} WHERE processed_at IS NULL"
            if raw.is_sqlite(db) else
            "SELECT id, processed_at FROM outbox_event WHERE processed_at IS NULL ORDER BY id LIMIT 1"
        )
        try:
            while not self.stop.is_set():
                began = time.perf_counter()
                row = db.execute(lowest_unhandled).fetchone()
                lowest = row[0] if row else None
                self.reads.append((began, time.perf_counter(), time.time(), lowest))
                time.sleep(WATCH_EVERY)
        finally:
            db.close()

    def _event_ids(self, record_ids: list[str]) -> dict[str, int]:
        db = self._connect()
        found: dict[str, int] = {}
        for start in range(0, len(record_ids), 500):
            part = record_ids[start : start + 500]
            ids = part if raw.is_sqlite(db) else [uuid.UUID(i) for i in part]
            query = f"SELECT record_id, id FROM outbox_event WHERE name = {raw.placeholders(db, 1)} " \
                    f"AND record_id IN ({raw.placeholders(db, len(ids))})"
            found.update((_hex(record_id), event_id) for record_id, event_id in db.execute(query, [self.event, *ids]).fetchall())
        db.close()
        return found

    def settle(self, committed: dict[str, float], *, limit: float = 60.0) -> None:
        """Wait (up to ``limit`` seconds) until the events of the records in ``committed``
        (record id: a ``perf_counter()`` time by which its event was committed) are all
        handled, then note when each was first seen handled."""
        events = self._event_ids(list(committed))
        if not events:
            return
        last, since, deadline = max(events.values()), max(committed.values()), time.perf_counter() + limit
        while time.perf_counter() < deadline and not any(
            began >= since and (lowest is None or lowest > last) for began, _, _, lowest in self.reads[-20:]
        ):
            time.sleep(0.05)
        reads = list(self.reads)
        starts = [read[0] for read in reads]
        for record_id, event_id in events.items():
            for began, ended, ended_at, lowest in reads[bisect.bisect_left(starts, committed[record_id]):]:
                if lowest is None or lowest > event_id:
                    self.seen[record_id], self.seen_at[record_id] = ended, ended_at
                    break

    def finish(self) -> None:
        self.stop.set()
        self.join()


def _hex(record_id: object) -> str:
    """A record id as the lead's id column gives it in hex, whichever driver read it."""
    return record_id.hex if isinstance(record_id, uuid.UUID) else str(record_id).replace("-", "")
