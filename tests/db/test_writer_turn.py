"""On SQLite writers take turns (db/writer_turn.py) rather than waiting in SQLite's busy
handler: the threads of a process on a lock, processes on a flock of a file beside the
database. The turn is always given back, however the transaction ends, and a writer
that gives up or dies leaves nothing held."""

import os
import shutil
import tempfile
import threading

import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service
from pipewise.db.session import _writer_turn, begin_write, get_sessionmaker, session_scope
from pipewise.db.writer_turn import WriterTurn
from tests.conftest import IS_POSTGRES
from tests.db.turn_holder import hold_turn, hold_turn_as, write_and_hold
from tests.processes import context, worker_process

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="the write turn exists for SQLite's single writer")


def write_lock():  # type: ignore[no-untyped-def]
    with get_sessionmaker()() as session:
        return _writer_turn(session)


class Boom(Exception):
    pass


def test_held_for_the_write_transaction_only():
    with session_scope() as session:
        assert write_lock().locked()
        contact_service.create(session, data={"last_name": "A"}, actor=SYSTEM_ACTOR)
    assert not write_lock().locked()

    with session_scope(write=False):
        assert not write_lock().locked()


def test_released_on_rollback_and_on_close_without_commit():
    with pytest.raises(Boom), session_scope():
        raise Boom

    assert not write_lock().locked()
    session = get_sessionmaker()()
    begin_write(session)
    assert write_lock().locked()
    session.close()
    assert not write_lock().locked()


def test_a_savepoint_does_not_release_it():
    with session_scope() as session:
        with session.begin_nested():
            pass
        assert write_lock().locked()


def test_concurrent_writer_threads_all_commit(session):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                with session_scope() as s:
                    contact_service.create(s, data={"last_name": f"T{n}-{i}"}, actor=SYSTEM_ACTOR)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert session.scalar(select(func.count()).select_from(Contact)) == 120


def waiting(target) -> tuple[threading.Thread, list]:  # type: ignore[no-untyped-def]
    """``target()`` started in a thread; its result lands in the list."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target()), daemon=True)
    thread.start()
    return thread, result


def test_a_second_writer_of_the_file_waits_and_gets_the_turn_when_the_first_lets_go(tmp_path):
    # Two turns on one file conflict as two processes would: each turn opens the file anew.
    path = str(tmp_path / "one.db")
    first, second = WriterTurn(path), WriterTurn(path)
    assert first.acquire(timeout=5)
    thread, got = waiting(lambda: second.acquire(timeout=60))
    thread.join(0.3)
    assert thread.is_alive() and got == []
    first.release()
    thread.join(60)
    assert got == [True] and second.locked()
    second.release()
    assert not second.locked()


def test_a_writer_that_gives_up_leaves_nothing_held(tmp_path):
    path = str(tmp_path / "one.db")
    first, second = WriterTurn(path), WriterTurn(path)
    assert first.acquire(timeout=5)
    assert second.acquire(timeout=0.1) is False
    assert not second.locked()
    first.release()
    # The abandoned wait gets the lock as the first lets go, and lets it go at once.
    for turn in (first, second, first):
        assert turn.acquire(timeout=60)
        turn.release()


def test_a_wait_interrupted_leaves_the_turn_free_for_the_other_threads(tmp_path, monkeypatch):
    from pipewise.db import writer_turn

    path = str(tmp_path / "one.db")
    first, second = WriterTurn(path), WriterTurn(path)
    assert first.acquire(timeout=5)

    def interrupted(*_args):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(writer_turn, "_wait_for_lock", interrupted)
    with pytest.raises(KeyboardInterrupt):
        second.acquire(timeout=5)
    assert not second.locked()
    first.release()
    assert second.acquire(timeout=5)
    second.release()


def test_without_its_file_the_turn_still_queues_the_threads_and_says_so_once(tmp_path, caplog):
    turn = WriterTurn(str(tmp_path / "missing-folder" / "one.db"))
    for _ in range(3):
        assert turn.acquire(timeout=5)
        assert turn.locked()
        turn.release()
        assert not turn.locked()
    assert caplog.text.count("cannot lock") == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to start a process as another user")
def test_a_writer_of_another_user_who_may_only_read_the_file_takes_its_turn():
    folder = tempfile.mkdtemp(prefix="pipewise-turn-")
    try:
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "one.db")
        first = WriterTurn(path)
        assert first.acquire(timeout=5)  # the file is made, this user's, 0644
        first.release()
        held, let_go = context().Event(), context().Event()
        nobody = 65534
        other = worker_process(hold_turn_as, (nobody, path, held, let_go), daemon=True)
        other.start()
        assert held.wait(60)
        assert first.acquire(timeout=0.1) is False
        let_go.set()
        other.join(60)
        assert other.exitcode == 0
        assert first.acquire(timeout=5)
        first.release()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_turn_of_a_writer_process_that_dies_is_free(tmp_path):
    path = str(tmp_path / "one.db")
    held = context().Event()
    holder = worker_process(hold_turn, (path, held), daemon=True)
    holder.start()
    assert held.wait(60)
    assert WriterTurn(path).acquire(timeout=0.1) is False
    holder.kill()
    holder.join(30)
    turn = WriterTurn(path)
    assert turn.acquire(timeout=60)
    turn.release()


def test_a_write_transaction_of_another_process_is_waited_for_then_followed(session):
    held, let_go = context().Event(), context().Event()
    other = worker_process(write_and_hold, (held, let_go), daemon=True)
    other.start()
    assert held.wait(60)

    def write_after() -> bool:
        with session_scope() as s:
            contact_service.create(s, data={"last_name": "After"}, actor=SYSTEM_ACTOR)
        return True

    thread, done = waiting(write_after)
    thread.join(0.3)
    assert thread.is_alive() and done == []
    let_go.set()
    thread.join(60)
    other.join(60)
    assert done == [True] and other.exitcode == 0
    assert sorted(session.scalars(select(Contact.last_name))) == ["After", "Held"]
