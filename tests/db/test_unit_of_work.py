"""The unit of work: one object per transaction for what is not a row (cached lookups,
deferred inserts, the SQLite write lock, the worker's optimistic flag, per-package state)
and the work to do once it has committed."""

from dataclasses import dataclass

import pytest
from sqlalchemy import text

from pipewise.db.session import begin_write, cached_lookup, get_sessionmaker
from pipewise.db.unit_of_work import existing_unit_of_work, unit_of_work
from pipewise.events import bus
from tests.conftest import IS_POSTGRES


@dataclass
class Notes:
    seen: int = 0


def touch(session) -> None:  # type: ignore[no-untyped-def]
    session.execute(text("SELECT 1"))


def test_one_unit_of_work_per_transaction_savepoints_included(session):
    touch(session)
    work = unit_of_work(session)
    with session.begin_nested():
        assert unit_of_work(session) is work
    savepoint = session.begin_nested()
    savepoint.rollback()
    assert unit_of_work(session) is work
    session.commit()
    assert existing_unit_of_work(session) is None
    assert unit_of_work(session) is not work


def test_per_package_state_is_one_object_per_type_and_ends_with_the_transaction(session):
    touch(session)
    unit_of_work(session).state(Notes).seen += 1
    unit_of_work(session).state(Notes).seen += 1
    assert unit_of_work(session).state(Notes).seen == 2
    session.rollback()
    assert unit_of_work(session).state(Notes).seen == 0


def test_after_commit_work_runs_once_after_the_outer_commit_and_never_after_a_rollback(session):
    ran: list[str] = []
    touch(session)
    unit_of_work(session).after_commit(lambda: ran.append("rolled back"))
    session.rollback()
    assert ran == []

    touch(session)
    with session.begin_nested():
        unit_of_work(session).after_commit(lambda: ran.append("committed"))
    assert ran == [], "a savepoint's release is not the commit"
    session.commit()
    assert ran == ["committed"]
    touch(session)
    session.commit()
    assert ran == ["committed"]


def test_failing_after_commit_work_is_logged_and_the_rest_still_runs(session, caplog):
    ran: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    touch(session)
    unit_of_work(session).after_commit(fail)
    unit_of_work(session).after_commit(lambda: ran.append("second"))
    with caplog.at_level("ERROR", logger="pipewise.db"):
        session.commit()
    assert ran == ["second"] and "boom" in caplog.text


@pytest.mark.skipif(IS_POSTGRES, reason="the write lock exists for SQLite's single writer")
def test_after_commit_work_runs_once_the_write_lock_is_given_back():
    session = get_sessionmaker()()
    begin_write(session)
    lock = unit_of_work(session).write_lock
    assert lock is not None and lock.locked()
    held_then: list[bool] = []
    unit_of_work(session).after_commit(lambda: held_then.append(lock.locked()))
    session.commit()
    session.close()
    assert held_then == [False]


def test_the_optimistic_flag_and_cached_lookups_last_one_transaction(session):
    touch(session)
    assert not bus.optimistic(session)
    unit_of_work(session).optimistic = True
    calls: list[int] = []
    for _ in range(3):
        cached_lookup(session, Notes, "key", lambda: calls.append(1) or len(calls))
    assert bus.optimistic(session) and calls == [1]
    session.commit()
    assert not bus.optimistic(session)
    assert cached_lookup(session, Notes, "key", lambda: calls.append(1) or len(calls)) == 2


def test_a_cached_lookup_is_computed_again_once_an_object_of_its_model_changes(session, factory):
    """Changed or deleted, in the session and not yet flushed; a change to a record of
    another model leaves the lookup as it is."""
    from pipewise.auth.models import User

    user, account = factory.user(name="Ada"), factory.account(name="Engines")
    session.flush()
    calls: list[int] = []

    def names() -> int:
        calls.append(1)
        return len(calls)

    assert cached_lookup(session, User, "names", names) == 1
    account.name = "Analytical Engines"
    assert cached_lookup(session, User, "names", names) == 1
    user.name = "Ada Lovelace"
    assert cached_lookup(session, User, "names", names) == 2
    session.flush()
    assert cached_lookup(session, User, "names", names) == 2
    session.delete(user)
    assert cached_lookup(session, User, "names", names) == 3
