"""On SQLite a one-record write (a create or a change through the record routes) runs on
the event loop when the write turn is free (api/deps.py, ``one_record_write``); when
another process holds the turn it waits, the loop goes on serving other requests
meanwhile, and when the turn comes the waiting writes run on the loop back to back (or,
if it does not come in time, on the writer thread). On PostgreSQL it runs on a small pool
of its own."""

import asyncio
import threading
import time

import pytest
from sqlalchemy import func, select

from pipewise.crm.models import Contact
from pipewise.crm.service import contact_service
from pipewise.api import deps
from pipewise.db import session as db_session
from pipewise.db.session import _writer_turn, get_sessionmaker
from tests.conftest import IS_POSTGRES
from tests.db.turn_holder import turn_held_elsewhere

sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="the write turn and its thread exist for SQLite's single writer")


@pytest.fixture
def rep(factory, session):  # type: ignore[no-untyped-def]
    user = factory.user(role="rep", team=factory.team("East"))
    session.commit()
    return user


@pytest.fixture
def where_written(monkeypatch):  # type: ignore[no-untyped-def]
    """For each contact written through the service: its thread's name, and whether an
    event loop runs in that thread."""
    seen: list[tuple[str, bool]] = []
    for name in ("create", "update"):
        original = getattr(contact_service, name)

        def spy(*args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            seen.append((threading.current_thread().name, on_loop))
            return _original(*args, **kwargs)

        monkeypatch.setattr(contact_service, name, spy)
    return seen


@sqlite_only
def test_a_create_and_a_change_run_on_the_loop_when_the_turn_is_free(api, factory, rep, where_written):
    headers = factory.headers(rep)
    created = api.post("/api/v1/contacts", json={"last_name": "Loop"}, headers=headers)
    assert created.status_code == 201
    changed = api.patch(f"/api/v1/contacts/{created.json()['id']}", json={"first_name": "Ada"}, headers=headers)
    assert changed.status_code == 200 and changed.json()["first_name"] == "Ada"
    assert [on_loop for _, on_loop in where_written] == [True, True]
    assert not any(name.startswith("pipewise-sqlite-writer") for name, _ in where_written)


@sqlite_only
def test_a_write_not_marked_goes_to_the_writer_thread(api, factory, rep, where_written):
    headers = factory.headers(rep)
    response = api.post("/api/v1/contacts/bulk", json={"items": [{"last_name": "Bulk"}]}, headers=headers)
    assert response.status_code == 200, response.text
    assert [name.startswith("pipewise-sqlite-writer") for name, _ in where_written] == [True]
    assert [on_loop for _, on_loop in where_written] == [False]


@sqlite_only
def test_a_failed_write_on_the_loop_leaves_nothing_and_gives_the_turn_back(api, factory, rep, session, where_written):
    headers = factory.headers(rep)
    refused = api.post("/api/v1/contacts", json={"last_name": "X", "custom": {"nope": 1}}, headers=headers)
    assert refused.status_code == 422 and refused.json()["errors"]
    with get_sessionmaker()() as other:
        assert not _writer_turn(other).locked()
    assert session.scalar(select(func.count()).select_from(Contact)) == 0
    assert api.post("/api/v1/contacts", json={"last_name": "Next"}, headers=headers).status_code == 201
    assert [on_loop for _, on_loop in where_written] == [True, True]


def waiting_writes() -> int:
    return sum(len(queue._waiting) for queue in list(deps._turn_queues.values()) if queue.loop.is_running())


def post_in_threads(api, headers, names: list[str]) -> tuple[list[threading.Thread], list[int]]:  # type: ignore[no-untyped-def]
    answers: list[int] = []
    threads = [threading.Thread(target=lambda name=name: answers.append(
        api.post("/api/v1/contacts", json={"last_name": name}, headers=headers).status_code)) for name in names]
    for thread in threads:
        thread.start()
    return threads, answers


@sqlite_only
def test_while_another_process_holds_the_turn_writes_wait_the_loop_serves_others_then_runs_them(
    api, factory, rep, session, where_written,
):
    headers = factory.headers(rep)
    names = [f"Waited {n}" for n in range(5)]
    with turn_held_elsewhere():
        threads, answers = post_in_threads(api, headers, names)
        threads[0].join(0.5)
        assert all(thread.is_alive() for thread in threads) and answers == []
        listed = api.get("/api/v1/contacts", headers=headers)  # the loop is not held by the waiting writes
        assert listed.status_code == 200 and listed.json()["items"] == []
    for thread in threads:
        thread.join(30)
    assert answers == [201] * 5
    assert sorted(session.scalars(select(Contact.last_name))) == names
    assert [on_loop for _, on_loop in where_written] == [True] * 5
    assert not any(name.startswith("pipewise-sqlite-writer") for name, _ in where_written)
    with get_sessionmaker()() as other:
        assert not _writer_turn(other).locked()


@sqlite_only
def test_many_waiting_writes_run_a_few_at_a_time_asking_for_the_turn_again_between(
    api, factory, rep, session, where_written, monkeypatch,
):
    monkeypatch.setattr(deps, "DRAIN_AT_MOST", 2)
    drains: list[int] = []
    original = deps._TurnQueue._drain

    def counted(self, turn):  # type: ignore[no-untyped-def]
        drains.append(len(self._waiting))
        return original(self, turn)

    monkeypatch.setattr(deps._TurnQueue, "_drain", counted)
    headers = factory.headers(rep)
    names = [f"Batch {n}" for n in range(5)]
    with turn_held_elsewhere():
        threads, answers = post_in_threads(api, headers, names)
        deadline = time.monotonic() + 10
        while waiting_writes() < 5 and time.monotonic() < deadline:  # all five wait before the turn comes
            time.sleep(0.02)
    for thread in threads:
        thread.join(30)
    assert answers == [201] * 5
    assert sorted(session.scalars(select(Contact.last_name))) == names
    assert drains[:3] == [5, 3, 1]
    assert [on_loop for _, on_loop in where_written] == [True] * 5


@sqlite_only
def test_a_waiting_write_that_does_not_get_the_turn_in_time_goes_to_the_writer_thread(api, factory, rep, where_written, monkeypatch):
    monkeypatch.setattr(db_session, "_WRITE_LOCK_TIMEOUT", 0.3)
    headers = factory.headers(rep)
    with turn_held_elsewhere():
        threads, answers = post_in_threads(api, headers, ["Late"])
        threads[0].join(1.5)  # past the wait on the loop's behalf and the writer thread's own
    threads[0].join(30)
    assert answers == [201]
    assert [(name.startswith("pipewise-sqlite-writer"), on_loop) for name, on_loop in where_written] == [(True, False)]


@sqlite_only
def test_writes_cancelled_while_they_waited_are_skipped_and_the_turn_goes_back():
    def write(session, name: str, ran: list[str]):  # type: ignore[no-untyped-def]
        def run() -> None:
            db_session.begin_write(session)  # finds the turn handed to it
            ran.append(name)
            session.commit()
        return run

    async def scenario() -> tuple[list[str], bool, list[str], bool]:
        queue = deps._TurnQueue(asyncio.get_running_loop())
        with get_sessionmaker()() as first, get_sessionmaker()() as second, get_sessionmaker()() as third:
            turn = _writer_turn(first)
            alone: list[str] = []
            with turn_held_elsewhere():
                gone = asyncio.ensure_future(queue.run(first, write(first, "gone", alone), {}))
                await asyncio.sleep(0.2)
                gone.cancel()
            for _ in range(100):  # the queue's thread gets the turn and hands it to the loop
                await asyncio.sleep(0.02)
                if queue.empty() and not turn.locked():
                    break
            alone_locked = turn.locked()
            ran: list[str] = []
            with turn_held_elsewhere():
                skipped = asyncio.ensure_future(queue.run(second, write(second, "skipped", ran), {}))
                kept = asyncio.ensure_future(queue.run(third, write(third, "kept", ran), {}))
                await asyncio.sleep(0.2)
                skipped.cancel()
            await asyncio.wait_for(kept, 10)
            return alone, alone_locked, ran, turn.locked()

    alone, alone_locked, ran, locked = asyncio.run(scenario())
    assert alone == [] and not alone_locked
    assert ran == ["kept"] and not locked


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's one-record writes have threads of their own")
def test_on_postgres_a_create_and_a_change_run_on_their_own_threads_and_other_writes_do_not(
    api, factory, rep, where_written,
):
    headers = factory.headers(rep)
    created = api.post("/api/v1/contacts", json={"last_name": "Pool"}, headers=headers)
    assert created.status_code == 201
    changed = api.patch(f"/api/v1/contacts/{created.json()['id']}", json={"first_name": "Ada"}, headers=headers)
    assert changed.status_code == 200 and changed.json()["first_name"] == "Ada"
    bulk = api.post("/api/v1/contacts/bulk", json={"items": [{"last_name": "Bulk"}]}, headers=headers)
    assert bulk.status_code == 200, bulk.text
    threads = [name.startswith("pipewise-record-writes") for name, _ in where_written]
    assert threads == [True, True, False]
    assert not any(on_loop for _, on_loop in where_written)
