"""Batch inserts that skip SQLAlchemy's per-row work. Used where thousands of rows land at
once (the CSV import).

The caller names the columns that vary from row to row and gives the values shared by the
whole batch (defaults, a timestamp) once. Each column's bind processor is looked up once,
shared values are processed once, and columns whose values the caller already holds in
the driver's form (``ready``: JSON text, say) are passed through untouched.

On SQLite the rows go as multi-row ``INSERT … SELECT ?, v.* FROM (VALUES (…), (…))``
statements in which the shared values are bound once per statement, so the driver binds
only what varies (half the work of ``executemany``). On PostgreSQL they go to psycopg's
pipelined ``executemany``."""

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

# SQLite's limit on the parameters of one statement (SQLITE_MAX_VARIABLE_NUMBER).
_SQLITE_MAX_PARAMETERS = 32_766
_SQLITE_MAX_ROWS_PER_STATEMENT = 2_000


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    shared: dict[str, Any] | None = None,
    ready: Iterable[str] = (),
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table`` in the session's
    transaction; every row also gets the ``shared`` column values."""
    if not rows:
        return
    shared = shared or {}
    connection = session.connection()
    dialect = connection.dialect
    skip = set(ready)
    processors = [
        None if name in skip else table.c[name].type._cached_bind_processor(dialect)  # noqa: SLF001
        for name in columns
    ]
    shared_values = []
    for name, value in shared.items():
        processor = table.c[name].type._cached_bind_processor(dialect)  # noqa: SLF001
        shared_values.append(processor(value) if processor is not None and value is not None else value)
    converting = [(i, p) for i, p in enumerate(processors) if p is not None]
    if converting:
        params = []
        for row in rows:
            values = list(row)
            for i, processor in converting:
                if values[i] is not None:
                    values[i] = processor(values[i])
            params.append(values)
    else:
        params = rows  # type: ignore[assignment]
    names = [*shared, *columns]
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
    if dialect.name == "sqlite":
        _sqlite_multirow(connection, head, len(shared_values), len(columns), shared_values, params)
    else:
        marker = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
        sql = head + f"VALUES ({', '.join([marker] * len(names))})"
        connection.exec_driver_sql(sql, [(*shared_values, *row) for row in params])


def _sqlite_multirow(connection: Any, head: str, n_shared: int, width: int, shared: list[Any], rows: Sequence[Sequence[Any]]) -> None:
    per_statement = max(1, min(_SQLITE_MAX_ROWS_PER_STATEMENT, (_SQLITE_MAX_PARAMETERS - n_shared) // width))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values: list[Any] = list(shared)
        for row in chunk:
            values.extend(row)
        connection.exec_driver_sql(head + _sqlite_select(n_shared, width, len(chunk)), tuple(values))


@lru_cache(maxsize=64)
def _sqlite_select(n_shared: int, width: int, count: int) -> str:
    """``SELECT ?, ?, v.* FROM (VALUES (?, ?), (?, ?)) AS v``: the shared values bound once,
    then ``count`` rows of ``width``. (Numbered parameters reused in every row would say the
    same, but SQLite looks each one up in a list, which is quadratic in a long statement.)"""
    row = "(" + ", ".join(["?"] * width) + ")"
    shared = "".join("?, " for _ in range(n_shared))
    return f"SELECT {shared}v.* FROM (VALUES {', '.join([row] * count)}) AS v"


def select_in(
    session: Session, table: Table, key: str, values: set[str], columns: Sequence[str], *, order_by: str | None = None
) -> list[tuple[Any, ...]]:
    """``(key, *columns)`` of the rows whose ``key`` is one of ``values``, in one query with
    one parameter (a JSON array on SQLite, an array on PostgreSQL) however many values."""
    if not values:
        return []
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    selected = ", ".join(quote(c) for c in (key, *columns))
    if dialect.name == "sqlite":
        where, parameter = f"{quote(key)} IN (SELECT value FROM json_each(?))", (json.dumps(sorted(values)),)
    else:
        where, parameter = f"{quote(key)} = ANY(%s)", (sorted(values),)
    order = f" ORDER BY {quote(order_by)}" if order_by else ""
    rows = connection.exec_driver_sql(f"SELECT {selected} FROM {quote(table.name)} WHERE {where}{order}", parameter)
    processors = [table.c[name].type._cached_result_processor(dialect, None) for name in (key, *columns)]  # noqa: SLF001
    return [tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True)) for row in rows]
