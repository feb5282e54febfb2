"""Batch inserts that skip SQLAlchemy's per-row work: each column's bind processor is
looked up once, constant values are processed once per batch, and the rows go to the
driver's ``executemany`` as plain tuples. Used where thousands of rows land at once."""

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

_MISSING = object()


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0].keys())
    columns = [table.c[name] for name in names]
    processors = [column.type._cached_bind_processor(dialect) for column in columns]  # noqa: SLF001
    # A value shared by every row (a timestamp, a default) is processed once.
    constants: list[Any] = []
    for name, processor in zip(names, processors, strict=True):
        first = rows[0][name]
        shared = all(row[name] is first for row in rows)
        constants.append((processor(first) if processor else first) if shared else _MISSING)
    varying = [i for i, c in enumerate(constants) if c is _MISSING]
    template = list(constants)
    params = []
    for row in rows:
        values = template[:]
        for i in varying:
            value = row[names[i]]
            processor = processors[i]
            values[i] = processor(value) if processor is not None and value is not None else value
        params.append(tuple(values))
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([marker] * len(names))})"
    )
    connection.exec_driver_sql(sql, params)
