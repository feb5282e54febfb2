"""On SQLite the writers of one process queue on a lock rather than in SQLite's busy
handler; the lock is always given back, however the transaction ends."""

import threading

import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service
from pipewise.db.session import _sqlite_write_lock, begin_write, get_sessionmaker, session_scope
from tests.conftest import IS_POSTGRES

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="the write lock exists for SQLite's single writer")


def write_lock():  # type: ignore[no-untyped-def]
    with get_sessionmaker()() as session:
        return _sqlite_write_lock(session)


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
