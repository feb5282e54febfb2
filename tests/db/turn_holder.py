"""Other processes that hold the write turn on a SQLite database (tests/db/test_writer_turn.py),
and the turn held as another process would hold it, from the test's own."""

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from typing import Any

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.service import contact_service
from pipewise.db.session import _writer_turn, get_sessionmaker, session_scope
from pipewise.db.writer_turn import WriterTurn


def hold_turn(database: str, held: Any) -> None:
    """Take the turn and keep it until killed."""
    assert WriterTurn(database).acquire(timeout=30)
    held.set()
    time.sleep(120)


def write_and_hold(held: Any, let_go: Any) -> None:
    """Write a contact and keep the transaction open until ``let_go``, then commit."""
    from pipewise import domains

    domains.load()
    with session_scope() as session:
        contact_service.create(session, data={"last_name": "Held"}, actor=SYSTEM_ACTOR)
        session.flush()
        held.set()
        let_go.wait(60)


def hold_turn_as(uid: int, database: str, held: Any, let_go: Any) -> None:
    """As the user ``uid``, take the turn and keep it until ``let_go``."""
    import os

    os.setgid(uid)
    os.setuid(uid)
    turn = WriterTurn(database)
    assert turn.acquire(timeout=30)
    held.set()
    let_go.wait(60)
    turn.release()


def turn_file() -> str:
    with get_sessionmaker()() as session:
        turn = _writer_turn(session)
    assert turn is not None
    return turn.path


@contextlib.contextmanager
def turn_held_elsewhere() -> Iterator[None]:
    """The write turn held as another process would hold it: a flock of a descriptor of our
    own is, to the turn's descriptor, another process's."""
    holder = os.open(turn_file(), os.O_RDONLY | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
