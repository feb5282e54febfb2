"""Statements about a batch's many rows: ``among`` (a batch's ids: one array parameter on
PostgreSQL) and ``insert_ignoring_rows`` (many rows inserted now, those inserted
returned: one ``unnest`` statement on PostgreSQL)."""

import uuid

import pytest
from sqlalchemy import func, select

from pipewise.db.base import among, uuid7
from pipewise.db.session import insert_ignoring_rows
from pipewise.events.models import OutboxEvent
from pipewise.notifications.models import Notification
from pipewise.notifications.service import _row
from tests.conftest import IS_POSTGRES


def test_among_finds_exactly_the_rows_of_many_ids(session, factory):
    user = factory.user()
    session.add_all(OutboxEvent(name="x.happened", record_type="x", record_id=uuid7(), actor_id=user.id, payload={})
                    for _ in range(300))
    session.flush()
    ids = session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)).all()
    wanted = ids[::3] + [10**12]  # one that does not exist
    statement = select(OutboxEvent.id).where(among(session, OutboxEvent.id, wanted)).order_by(OutboxEvent.id)
    assert session.scalars(statement).all() == ids[::3]
    # On PostgreSQL one array parameter, however many ids: psycopg keeps its parse of it.
    sql = str(statement.compile(session.get_bind()))
    assert ("= ANY (" in sql) if IS_POSTGRES else (" IN (" in sql), sql
    assert session.scalars(select(OutboxEvent.id).where(among(session, OutboxEvent.id, []))).all() == []


@pytest.mark.parametrize("count", [3, 12])
def test_insert_ignoring_rows_returns_those_inserted(session, factory, count):
    user = factory.user()
    rows = [_row(user.id, "reminder", f"Note {n}", body=None, link=None, record_type=None, record_id=None, key=f"k:{n}")
            for n in range(count)]
    first = insert_ignoring_rows(session, Notification, rows[:2], conflict_on=("key",), returning=("id", "user_id", "kind"))
    assert first == [(rows[0]["id"], user.id, "reminder"), (rows[1]["id"], user.id, "reminder")]
    again = [{**row, "id": uuid.uuid4()} if n < 2 else row for n, row in enumerate(rows)]  # the first two's keys are taken
    inserted = insert_ignoring_rows(session, Notification, again, conflict_on=("key",), returning=("id", "user_id", "kind"))
    assert sorted(inserted) == sorted((row["id"], user.id, "reminder") for row in rows[2:])
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user.id)) == count
    titles = session.scalars(select(Notification.title).where(Notification.user_id == user.id).order_by(Notification.title))
    assert titles.all() == sorted(f"Note {n}" for n in range(count))
