"""Timestamps come back timezone-aware in UTC whatever form the database holds them in
(db/base.py ``UTCDateTime``; SQLite keeps text, which a fast path parses)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import literal, literal_column, select, type_coerce

from pipewise.db.base import UTCDateTime


@pytest.mark.parametrize(("held", "expected"), [
    ("2026-03-04 12:34:56.123456", datetime(2026, 3, 4, 12, 34, 56, 123456, tzinfo=UTC)),
    ("2026-03-04 12:34:56", datetime(2026, 3, 4, 12, 34, 56, tzinfo=UTC)),
    ("2026-03-04T12:34:56Z", datetime(2026, 3, 4, 12, 34, 56, tzinfo=UTC)),
    ("2026-03-04 14:34:56+02:00", datetime(2026, 3, 4, 12, 34, 56, tzinfo=UTC)),
])
def test_text_a_write_left_reads_back_in_utc(session, held, expected):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL holds timestamps, not text")
    read = session.scalar(select(type_coerce(literal_column(f"'{held}'"), UTCDateTime())))
    assert read == expected and read.utcoffset() == timedelta(0)


def test_a_written_time_reads_back_as_the_same_instant(session):
    written = datetime(2026, 3, 4, 14, 34, 56, 5, tzinfo=timezone(timedelta(hours=2)))
    read = session.scalar(select(literal(written, UTCDateTime())))
    assert read == written and read.utcoffset() == timedelta(0) and read.microsecond == 5


def test_a_time_is_written_as_sqlalchemys_sqlite_text():
    """The SQLite bind fast path (a time in UTC) writes what SQLAlchemy's DATETIME writes,
    to the microsecond, for times in UTC, in other zones and without a zone."""
    import random

    from sqlalchemy import DateTime
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    dialect = SQLiteDialect_pysqlite()
    ours, sqlalchemys = UTCDateTime()._cached_bind_processor(dialect), DateTime()._cached_bind_processor(dialect)
    rng = random.Random(7)
    start = datetime(1, 1, 2, tzinfo=UTC)
    for _ in range(20_000):
        moment = start + timedelta(seconds=rng.randrange(315_000_000_000), microseconds=rng.choice([0, rng.randrange(10**6)]))
        expected = sqlalchemys(moment.replace(tzinfo=None))
        assert ours(moment) == expected
        assert ours(moment.replace(tzinfo=None)) == expected
        assert ours(moment.astimezone(timezone(timedelta(hours=-5)))) == expected
    assert ours(None) is None
