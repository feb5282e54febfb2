"""What happens after a create commits: a ``pipewise worker`` process beside the benchmark,
and a watcher that notes when the worker has committed its handling of each event."""

import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bench import raw

# How often the watcher reads the outbox: the resolution of the times it notes.
WATCH_EVERY = 0.01
# On PostgreSQL, outbox ids are drawn before commit, so a row can appear after rows with
# higher ids; every LOOKBACK_EVERY-th read goes this many ids back so as not to miss it.
LOOKBACK_IDS = 1_000
LOOKBACK_EVERY = 10


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
    """Notes, by record id, when each ``event`` in the outbox is first seen handled, reading
    it every 10 ms through a connection of its own: the worker has then committed what the
    event asked of it. ``seen`` holds ``time.perf_counter()`` and ``seen_at`` ``time.time()``.

    Each read costs the database little, as the system it watches shares the machine's
    cores: it looks for new events past the last id seen (further back every tenth read),
    then for the lowest id still unhandled, by the index the worker claims by. An event
    seen before that read and below that id is handled. (Asking after every pending event
    by id cost PostgreSQL about a quarter of its time in a routed run, once the worker fell
    behind and thousands were pending.)"""

    def __init__(self, url: str, event: str) -> None:
        super().__init__(daemon=True)
        self.event, self.stop = event, threading.Event()
        self.seen: dict[str, float] = {}
        self.seen_at: dict[str, float] = {}
        self.url = url
        db = self._connect()
        self.before = self.last = db.execute("SELECT coalesce(max(id), 0) FROM outbox_event").fetchone()[0]
        db.close()

    def _connect(self):  # type: ignore[no-untyped-def]
        db = raw.connect(self.url)
        if not raw.is_sqlite(db):
            db.autocommit = True
        self.mark = "?" if raw.is_sqlite(db) else "%s"
        return db

    def run(self) -> None:
        pending: dict[int, str] = {}
        known: set[int] = set()
        self.db = self._connect()
        new_events = f"SELECT id, record_id FROM outbox_event WHERE name = {self.mark} AND id > {self.mark}"
        lowest_unhandled = "SELECT min(id) FROM outbox_event WHERE processed_at IS NULL"
        try:
            for reads in itertools.count():
                if self.stop.is_set():
                    break
                since = self.last - LOOKBACK_IDS if reads % LOOKBACK_EVERY == 0 else self.last
                for event_id, record_id in self.db.execute(new_events, (self.event, since)).fetchall():
                    if event_id > self.before and event_id not in known:
                        known.add(event_id)
                        pending[event_id] = _hex(record_id)
                        self.last = max(self.last, event_id)
                if pending:
                    # Read after the events were: each of them is in this read's view too.
                    lowest = self.db.execute(lowest_unhandled).fetchone()[0]
                    now, now_at = time.perf_counter(), time.time()
                    for event_id in [e for e in pending if lowest is None or e < lowest]:
                        record_id = pending.pop(event_id)
                        self.seen[record_id], self.seen_at[record_id] = now, now_at
                time.sleep(WATCH_EVERY)
        finally:
            self.db.close()

    def wait_for(self, record_ids: set[str], *, limit: float = 60.0) -> None:
        """Until every one of ``record_ids`` is seen handled, or ``limit`` seconds."""
        deadline = time.perf_counter() + limit
        while not record_ids <= self.seen.keys() and time.perf_counter() < deadline:
            time.sleep(0.05)

    def finish(self) -> None:
        self.stop.set()
        self.join()


def _hex(record_id: object) -> str:
    """A record id as the lead's id column gives it in hex, whichever driver read it."""
    return record_id.hex if isinstance(record_id, uuid.UUID) else str(record_id).replace("-", "")
