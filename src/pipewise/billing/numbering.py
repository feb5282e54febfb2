"""Gap-free numbers: one counter row per series and year, locked by the transaction that
takes a number (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction already
holds the database's write lock). A transaction that rolls back gives its number back
with everything else, so the next one takes the same number: no gap, no duplicate. The
price is that postings of one series and year wait for each other's commit."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.billing.models import NumberCounter
from pipewise.db.session import dialect_insert


def next_value(session: Session, series: str, year: int) -> int:
    session.execute(
        dialect_insert(session)(NumberCounter)
        .values(series=series, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["series", "year"])
    )
    counter = session.scalars(
        select(NumberCounter)
        .where(NumberCounter.series == series, NumberCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_value += 1
    session.flush()
    return counter.last_value


def formatted(prefix: str, year: int, value: int) -> str:
    """INV-2026-000001: the prefix, the year and six digits (more once past 999,999)."""
    return f"{prefix}-{year}-{value:06d}"


def take(session: Session, series: str, prefix: str, year: int) -> str:
    return formatted(prefix, year, next_value(session, series, year))
