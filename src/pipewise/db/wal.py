"""SQLite WAL checkpoints off the commit path.

In WAL mode a commit appends its pages to the write-ahead log; a checkpoint copies them
into the database file and syncs it. By default the commit that takes the log past 1,000
pages does that itself, inside the transaction that happened to cross the line: a lead's
create, which touches some 45 pages (the lead and its indexes, history, event, blocking
keys), paid for a checkpoint every twenty-odd commits, a third of its raw write time.

With ``PIPEWISE_SQLITE_BACKGROUND_CHECKPOINTS`` on (the default; see config.py), the
process's engine keeps one thread per database file instead, which checkpoints every
``INTERVAL`` seconds on a connection of its own (``PASSIVE``: it waits for no reader and
no writer and blocks none; pages a writer is still appending are copied next time).
Pages written several times between two checkpoints are copied once. The pool's
connections keep an automatic checkpoint only as a bound (``BOUND_PAGES``, about 40 MB of
log), for when this thread falls behind or is not running.

A log that long has a shared index (the ``-shm`` file, mapped into every process that has
the database open) of several 32 KB regions, where SQLite's default bound keeps one. A
process must therefore never open and close the database's files itself, outside SQLite:
closing any descriptor of a file drops every POSIX lock the process holds on it. The next
process to open the database then finds it unlocked, takes it for unused and cuts the
index to nothing, and the first process dies of SIGBUS on its next commit
(tests/db/test_wal.py shows the mechanism).
"""

import logging
import sqlite3
import threading
import time
import weakref

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

INTERVAL = 0.1
BOUND_PAGES = 10_000


class Checkpointer:
    """Checkpoints one SQLite database file in the background until ``stop`` (or until the
    engine it serves is garbage-collected)."""

    def __init__(self, path: str, engine: Engine) -> None:
        self.path = path
        self.last: tuple[int, int, int] | None = None
        self._stopped = threading.Event()
        self._engine = weakref.ref(engine)
        self._thread = threading.Thread(target=self._run, name=f"wal-checkpoint:{path}", daemon=True)

    def start(self) -> "Checkpointer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, pages in the log, pages copied)."""
        self.last = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return self.last

    def _run(self) -> None:
        connection = None
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=1)
            while not self._stopped.wait(INTERVAL) and self._engine() is not None:
                try:
                    self.checkpoint(connection)
                except sqlite3.Error as error:  # e.g. the file went away under a test; try again later
                    log.debug("WAL checkpoint of %s failed: %s", self.path, error)
        except sqlite3.Error as error:
            log.warning("WAL checkpoints of %s stopped: %s", self.path, error)
        finally:
            if connection is not None:
                connection.close()


def empty_the_log(dbapi_connection: sqlite3.Connection, *, seconds: float = 2.0) -> bool:
    """Copy the whole log into the database file and cut it to nothing (``TRUNCATE``);
    False if it stayed busy for ``seconds``. Another checkpoint (this process's own thread)
    answers busy at once, so the attempt is made again every 20 ms; a reader holding an
    old snapshot makes each attempt wait the connection's busy timeout, so the deadline,
    not a count of attempts, bounds the wait (50 attempts once kept an erasure's answer
    waiting 100 s behind one open read)."""
    deadline = time.monotonic() + seconds
    while True:
        busy, _logged, _copied = dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def checkpoint_in_background(engine: Engine) -> Checkpointer | None:
    """Start a checkpointer for ``engine``'s database file and raise its connections'
    automatic checkpoint to the bound; None for databases in memory and other dialects.
    The engine's ``dispose`` stops it."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None

    @event.listens_for(engine, "connect")
    def bound_the_log(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BOUND_PAGES}")

    checkpointer = Checkpointer(engine.url.database, engine).start()

    @event.listens_for(engine, "engine_disposed")
    def stop_checkpoints(_engine):  # type: ignore[no-untyped-def]
        checkpointer.stop()

    return checkpointer
