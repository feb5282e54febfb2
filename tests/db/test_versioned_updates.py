"""A worker batch's changed records go out as one executemany per table and set of
changed columns, with the version check of the ORM's own UPDATE: the versions move on,
``updated_at`` is stamped, the objects are clean afterwards, and a row another writer
changed meanwhile fails the flush instead of being overwritten."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm.exc import StaleDataError

from pipewise.db import versioned_updates
from pipewise.db.deferred_inserts import driver_cursor
from pipewise.db.session import get_engine, session_scope
from pipewise.db.unit_of_work import unit_of_work
from pipewise.leads.models import Lead


class _Updates:
    """The UPDATEs of leads: the ORM's through SQLAlchemy, the batch's on the driver."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, bool]] = []

    def __call__(self, _conn, _cursor, statement, _parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE LEAD"):
            self.statements.append((statement, executemany))

    def on_driver(self, connection, sql):  # type: ignore[no-untyped-def]
        seen = self

        class Cursor:
            def __init__(self, cursor) -> None:  # type: ignore[no-untyped-def]
                self.cursor = cursor

            def executemany(self, statement, rows) -> None:  # type: ignore[no-untyped-def]
                seen(None, None, statement, rows, None, True)
                self.cursor.executemany(statement, rows)

            def execute(self, statement, arrays) -> None:  # type: ignore[no-untyped-def]
                seen(None, None, statement, arrays, None, True)  # every row in one statement
                self.cursor.execute(statement, arrays)

            @property
            def rowcount(self) -> int:
                return self.cursor.rowcount

        @contextmanager
        def spied():  # type: ignore[no-untyped-def]
            with driver_cursor(connection, sql) as cursor:
                yield Cursor(cursor)

        return spied()


@pytest.fixture
def updates(monkeypatch):  # type: ignore[no-untyped-def]
    seen = _Updates()
    event.listen(get_engine(), "before_cursor_execute", seen)
    monkeypatch.setattr(versioned_updates, "driver_cursor", seen.on_driver)
    yield seen
    event.remove(get_engine(), "before_cursor_execute", seen)


def _leads(session, factory, count):  # type: ignore[no-untyped-def]
    ids = [factory.lead().id for _ in range(count)]
    session.commit()
    return ids


def _in_a_batch(s):  # type: ignore[no-untyped-def]
    unit_of_work(s).optimistic = True  # as the worker runs a batch


def test_many_records_changed_alike_are_one_statement_and_end_clean(session, factory, updates):
    ids = _leads(session, factory, 5)
    before = {lead.id: (lead.version, lead.updated_at) for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
    with session_scope() as s:
        _in_a_batch(s)
        leads = s.scalars(select(Lead).where(Lead.id.in_(ids))).all()
        for n, lead in enumerate(leads):
            lead.score, lead.title = 10 + n, f"Title {n}"
        leads[0].company = "Odd One Out"  # another shape, alone: the ORM writes it
        s.flush()
        assert not s.dirty, "the written objects are clean"
        assert all(lead.version == before[lead.id][0] + 1 for lead in leads)
        lead_two = leads[1]
        lead_two.score = 99  # changed again after the flush: written again, one version on
    session.rollback()  # a fresh look, past the snapshot of the reads above
    stored = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
    assert stored[lead_two.id].score == 99 and stored[lead_two.id].version == before[lead_two.id][0] + 2
    assert sorted(lead.title for lead in stored.values()) == [f"Title {n}" for n in range(5)]
    assert stored[leads[0].id].company == "Odd One Out"
    assert all(lead.updated_at > before[lead.id][1] for lead in stored.values())
    batched = [statement for statement, many in updates.statements if many]
    assert len(batched) == 1 and "version" in batched[0].lower(), "the four alike went out as one checked executemany"


# Twelve: on PostgreSQL, from UNNEST_FROM rows, one UPDATE … FROM unnest(…) holds them all.
@pytest.mark.parametrize("count", [3, 12])
def test_a_row_changed_by_another_writer_meanwhile_fails_the_flush(session, factory, updates, count):
    ids = _leads(session, factory, count)
    with pytest.raises(StaleDataError), session_scope() as s:
        _in_a_batch(s)
        leads = s.scalars(select(Lead).where(Lead.id.in_(ids))).all()
        # Another writer's change between the batch's read and its write, as the row then
        # stands (a statement of its own, behind the ORM's back).
        s.execute(update(Lead).where(Lead.id == ids[1]).values(title="Theirs", version=Lead.version + 1),
                  execution_options={"synchronize_session": False})
        for lead in leads:
            lead.title = "Ours"
    session.rollback()  # a fresh look, past the snapshot of the reads above
    titles = {lead.id: lead.title for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
    assert "Ours" not in titles.values() and "Theirs" not in titles.values(), "the failed batch rolled back whole"


def test_outside_a_worker_batch_the_orm_writes_each_row(session, factory, updates):
    ids = _leads(session, factory, 3)
    with session_scope() as s:
        for lead in s.scalars(select(Lead).where(Lead.id.in_(ids))):
            lead.score = 5
    assert [many for _statement, many in updates.statements] == [False, False, False]


def test_many_rows_alike_are_one_statement_with_their_own_values(session, factory, updates):
    ids = _leads(session, factory, 12)
    before = {lead.id: lead.version for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
    with session_scope() as s:
        _in_a_batch(s)
        for n, lead in enumerate(s.scalars(select(Lead).where(Lead.id.in_(ids)).order_by(Lead.id))):
            lead.score, lead.score_reasons = n, [{"rule": f"r{n}", "points": n}]
    session.rollback()
    stored = session.scalars(select(Lead).where(Lead.id.in_(ids)).order_by(Lead.id)).all()
    assert [(lead.score, lead.score_reasons) for lead in stored] == [(n, [{"rule": f"r{n}", "points": n}]) for n in range(12)]
    assert all(lead.version == before[lead.id] + 1 for lead in stored)
    (statement,) = [statement for statement, many in updates.statements if many]
    assert ("unnest" in statement) == (get_engine().dialect.name == "postgresql")
