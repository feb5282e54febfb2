"""PostgreSQL's pooled connections are pinged only after sitting idle (db/liveness.py), and
a dead one is replaced before anyone uses it."""

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from pipewise.db import liveness
from pipewise.db.session import make_engine
from tests.conftest import IS_POSTGRES

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="the PostgreSQL pool")


@pytest.fixture
def engine(database):  # type: ignore[no-untyped-def]
    made = make_engine(database, poolclass=QueuePool, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


@pytest.fixture
def pings(monkeypatch):  # type: ignore[no-untyped-def]
    sent = []
    real = liveness.ping

    def counted(engine, dbapi_connection):  # type: ignore[no-untyped-def]
        sent.append(1)
        real(engine, dbapi_connection)

    monkeypatch.setattr(liveness, "ping", counted)
    return sent


def backend_of(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_just_handed_back_is_used_without_a_ping(engine, pings, monkeypatch):
    monkeypatch.setattr(liveness, "IDLE_SECONDS", 60.0)
    first = backend_of(engine)
    assert [backend_of(engine) for _ in range(5)] == [first] * 5
    assert pings == []


def test_an_idle_connection_found_dead_is_replaced_before_use(engine, pings, monkeypatch):
    killed = backend_of(engine)
    with make_engine(engine.url.render_as_string(hide_password=False)).connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
    monkeypatch.setattr(liveness, "IDLE_SECONDS", 0.0)  # it has sat idle long enough
    replacement = backend_of(engine)  # no error: the ping found it dead, the pool opened another
    assert replacement != killed and pings
    pings.clear()
    assert backend_of(engine) == replacement and len(pings) == 1  # alive: pinged, kept
