"""WAL checkpoints run in a thread of their own, not inside a writer's commit (db/wal.py)."""

import os
import signal
import sqlite3
import threading
import time

import pytest

from pipewise.config import get_settings
from pipewise.db import wal
from pipewise.db.session import get_engine, make_engine, reset_engine
from tests.conftest import IS_POSTGRES
from tests.db import long_log
from tests.db.long_log import PAGE, write_pages
from tests.processes import worker_process

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="SQLite's write-ahead log")


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_connections_leave_checkpoints_below_the_bound_to_the_thread(tmp_path):
    path = tmp_path / "quiet.db"
    engine = make_engine(f"sqlite:///{path}")
    checkpointer = wal.checkpoint_in_background(engine)
    checkpointer.stop()  # nobody checkpoints now but the connections themselves
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == wal.BOUND_PAGES
    write_pages(engine, 3_000)  # three times SQLite's default bound of 1,000 pages
    # Nothing was copied into the database file: the log holds it all.
    assert os.path.getsize(path) < 100 * PAGE
    assert os.path.getsize(f"{path}-wal") > 2_000 * PAGE
    engine.dispose()


def test_the_thread_copies_the_log_into_the_database_file(tmp_path):
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    checkpointer = wal.checkpoint_in_background(engine)
    write_pages(engine, 3_000)
    assert wait_for(lambda: os.path.getsize(path) > 2_000 * PAGE)
    assert wait_for(lambda: checkpointer.last is not None and checkpointer.last[1] == checkpointer.last[2])
    with engine.connect() as connection:  # and what it copied reads back
        assert connection.exec_driver_sql("SELECT count(*) FROM filler").scalar() == 750
    engine.dispose()
    assert not checkpointer._thread.is_alive()


def test_the_process_engine_has_a_checkpointer_unless_turned_off_until_it_is_reset(monkeypatch):
    def running() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("wal-checkpoint:") and t.is_alive()]

    reset_engine()
    assert running() == []
    engine = get_engine()
    assert [t.name for t in running()] == [f"wal-checkpoint:{engine.url.database}"]  # on by default
    reset_engine()
    assert running() == []
    monkeypatch.setenv("PIPEWISE_SQLITE_BACKGROUND_CHECKPOINTS", "false")
    get_settings.cache_clear()
    get_engine()
    assert running() == []
    monkeypatch.delenv("PIPEWISE_SQLITE_BACKGROUND_CHECKPOINTS")
    get_settings.cache_clear()
    reset_engine()


def test_emptying_the_log_behind_an_open_read_gives_up_at_its_deadline(tmp_path):
    """A reader's old snapshot keeps the log; each attempt then waits the connection's busy
    timeout, and the deadline, not a count of attempts, ends the wait (fifty attempts of
    two seconds once held an erasure's answer for 100 s). Once the reader is done, the log
    empties."""
    path = tmp_path / "log.db"
    engine = make_engine(f"sqlite:///{path}")
    write_pages(engine, 40)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM filler").fetchone()
    write_pages(engine, 40)  # pages past the reader's snapshot
    truncating = sqlite3.connect(path, isolation_level=None)
    truncating.execute("PRAGMA busy_timeout=2000")
    started = time.monotonic()
    assert not wal.empty_the_log(truncating, seconds=0.5)
    assert time.monotonic() - started < 10, "the attempts went on past the deadline"
    reader.execute("COMMIT")
    assert wal.empty_the_log(truncating)
    assert os.path.getsize(f"{path}-wal") == 0
    reader.close()
    truncating.close()
    engine.dispose()


def test_a_long_log_outlives_another_process_opening_the_database(tmp_path):
    """With the 10,000-page bound the log's shared index can span several regions. Another
    process opening and closing the database leaves it intact, as long as this process
    never opens and closes the database's files itself: that drops its POSIX locks, the
    other process takes the index for unused and cuts it, and this one dies of SIGBUS on
    its next commit (the crash once seen in the suite, where a test read the data folder)."""
    intact = worker_process(long_log.run, (str(tmp_path / "kept.db"), False))
    intact.start()
    intact.join(120)
    assert intact.exitcode == 0
    kept = sqlite3.connect(tmp_path / "kept.db")
    assert kept.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept.close()

    unlocked = worker_process(long_log.run, (str(tmp_path / "read.db"), True))
    unlocked.start()
    unlocked.join(120)
    assert unlocked.exitcode == -signal.SIGBUS
