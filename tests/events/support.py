"""Helpers shared by the event-bus and worker tests: a registry of subscribers that is
restored after each test, and a small test-only table where subscribers record what they
received (its own metadata, so migrations and the per-test cleanup never see it)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from pipewise.db.session import get_engine
from pipewise.events import bus

metadata = MetaData()
delivery_log = Table(
    "test_delivery_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", BigInteger, nullable=False),
    Column("subscriber", String(100), nullable=False),
    Column("worker", String(100), nullable=False, default=""),
)


def log_delivery(session: Session, event_id: int, subscriber: str, worker: str = "") -> None:
    session.execute(insert(delivery_log).values(event_id=event_id, subscriber=subscriber, worker=worker))


def deliveries(session: Session, subscriber: str | None = None) -> list[int]:
    stmt = select(delivery_log.c.event_id).order_by(delivery_log.c.id)
    if subscriber is not None:
        stmt = stmt.where(delivery_log.c.subscriber == subscriber)
    return list(session.scalars(stmt))


def count_by(session: Session, column: str) -> dict[str, int]:
    col = delivery_log.c[column]
    return {k: n for k, n in session.execute(select(col, func.count()).group_by(col))}


@pytest.fixture
def clean_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start each test with no subscribers or action handlers and restore them afterwards."""
    monkeypatch.setattr(bus, "_subscriptions", {})
    monkeypatch.setattr(bus, "_subscribers_by_names", {})
    monkeypatch.setattr(bus, "_action_handlers", {})
    yield


@pytest.fixture
def log_table(session: Session) -> Iterator[Table]:
    engine = get_engine()
    metadata.create_all(engine)
    yield delivery_log
    session.rollback()  # PostgreSQL's DROP waits for every transaction that read the table
    metadata.drop_all(engine)
