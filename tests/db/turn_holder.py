"""Other processes that hold the write turn on a SQLite database (tests/db/test_writer_turn.py)."""

import time
from typing import Any

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.service import contact_service
from pipewise.db.session import session_scope
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
