"""Inserts deferred to one multi-row statement per table.

A batch that adds many small rows (a tag per workflow step, an enrollment per event) writes
them as one INSERT per table rather than one each. The rows wait in the unit of work
(``db.session.insert_later``) and are written before a statement that may read them or
point at them (not before a plain INSERT into an unrelated table), before an ORM flush,
before a savepoint opens (so that its rollback leaves them) and before commit; a rollback
drops the rows deferred since the transaction or savepoint began. ``ignore_conflicts=False``
rows fail the statement on a unique violation, which fails the transaction: for callers
that then run again without deferring (a worker's optimistic batch).

Savepoints, commits and rollbacks are seen on the connection, so the connection carries
a reference to the waiting rows while there are any."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import sort_tables
from sqlalchemy.sql.dml import Insert

_ON_CONNECTION = "pipewise.deferred_inserts"
# On PostgreSQL, from this many rows of a table one ``unnest`` statement beats one INSERT
# per row (psycopg's array dumping has a fixed cost that a record's three rows never repay).
UNNEST_FROM = 8


class DeferredInserts:
    """The rows of one transaction waiting to be inserted, by (table, ignore_conflicts)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Table, bool], list[dict[str, Any]]] = {}

    def __bool__(self) -> bool:
        return bool(self.rows)

    def add(self, connection: Connection, table: Table, row: dict[str, Any], *, ignore_conflicts: bool) -> None:
        connection.info[_ON_CONNECTION] = self
        self.rows.setdefault((table, ignore_conflicts), []).append(row)

    def waiting(self, table: Table) -> list[dict[str, Any]]:
        """The rows waiting for ``table``."""
        return [row for (waiting_table, _ignore), rows in self.rows.items() if waiting_table is table for row in rows]

    def needed_by(self, statement: Any, *, tables_read: frozenset[Table] | None = None) -> bool:
        """Whether ``statement`` may read or reference the waiting rows: anything but a plain
        ``INSERT … VALUES`` into a table that is not waiting and has no foreign key to one,
        or a SELECT whose ``tables_read`` (all of them, known) are none of the waiting."""
        if tables_read:
            return any(table in tables_read for table, _ignore in self.rows)
        if not isinstance(statement, Insert) or statement.select is not None:
            return True
        waiting = {table for table, _ignore in self.rows}
        table = statement.table
        return table in waiting or any(fk.column.table in waiting for fk in table.foreign_keys)

    def write(self, connection: Connection) -> None:
        rows, self.rows = self.rows, {}
        if not rows:
            return
        order = _dependency_order(frozenset(table for table, _ignore in rows))
        groups = sorted(rows.items(), key=lambda item: order[item[0][0]])
        if connection.dialect.name != "postgresql":
            for (table, ignore_conflicts), same_table in groups:
                _insert_executemany(connection, table, same_table, ignore_conflicts)
        elif any(len(same_table) >= UNNEST_FROM for _key, same_table in groups):
            for (table, ignore_conflicts), same_table in groups:
                insert = _insert_unnest if len(same_table) >= UNNEST_FROM else _insert_executemany
                insert(connection, table, same_table, ignore_conflicts)
        else:
            _insert_together(connection, groups)

    def drop(self) -> None:
        self.rows = {}


@cache
def _dependency_order(tables: frozenset[Table]) -> dict[Table, int]:
    """Parents before children, so that a row's foreign keys find their rows."""
    return {table: n for n, table in enumerate(sort_tables(tables))}


class _PlainInsert:
    """``INSERT INTO table (columns) VALUES (…)`` for rows given ``keys``, written once as
    SQL with the columns' bind processing and Python defaults, so that a transaction's rows
    go to the driver's executemany without SQLAlchemy compiling or caching anything per call
    (on SQLite a third of a one-record transaction went there)."""

    def __init__(self, table: Table, keys: tuple[str, ...], ignore_conflicts: bool, dialect: Dialect) -> None:
        self.keys = keys
        defaulted = [column for column in table.columns if column.key not in keys and _python_default(column) is not None]
        self.defaults = [_python_default(column) for column in defaulted]
        columns = [*(table.columns[key] for key in keys), *defaulted]
        self.processing = bind_processing(columns, dialect)
        quote, mark = dialect.identifier_preparer.quote, placeholder(dialect)
        self.head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(quote(c.name) for c in columns)}) VALUES "
        self.marks = f"({', '.join(mark for _ in columns)})"
        self.tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        self.sql = self.of_rows(1)

    def of_rows(self, count: int) -> str:
        """The INSERT of ``count`` rows in one VALUES list."""
        return self.head + ", ".join([self.marks] * count) + self.tail

    def parameters(self, row: dict[str, Any]) -> list[Any]:
        values = [row[key] for key in self.keys]
        for default in self.defaults:
            values.append(column_default_value(default))
        return processed(values, self.processing)


def placeholder(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def bind_processing(columns: list[Column[Any]], dialect: Dialect) -> list[tuple[int, Callable[[Any], Any]]]:
    """The positions among ``columns`` whose type converts values on the way in (UUIDs,
    dates, JSON), with the conversion, for SQL written by hand."""
    return [
        (index, process) for index, column in enumerate(columns)
        if (process := column.type._cached_bind_processor(dialect)) is not None  # noqa: SLF001
    ]


def processed(values: list[Any], processing: list[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    """``values`` converted in place where ``processing`` says, None left as it is."""
    for index, process in processing:
        value = values[index]
        if value is not None:
            values[index] = process(value)
    return values


_plain_inserts: dict[tuple[Table, tuple[str, ...], bool, str], _PlainInsert] = {}


def _plain_insert(table: Table, keys: tuple[str, ...], ignore_conflicts: bool, dialect: Dialect) -> _PlainInsert:
    plan_key = (table, keys, ignore_conflicts, dialect.name)
    plan = _plain_inserts.get(plan_key)
    if plan is None:
        plan = _plain_inserts[plan_key] = _PlainInsert(table, keys, ignore_conflicts, dialect)
    return plan


def _insert_executemany(connection: Connection, table: Table, rows: list[dict[str, Any]], ignore_conflicts: bool) -> None:
    for shape in _by_keys(rows):
        plan = _plain_insert(table, tuple(shape[0]), ignore_conflicts, connection.dialect)
        with driver_cursor(connection, plan.sql) as cursor:
            cursor.executemany(plan.sql, [plan.parameters(row) for row in shape])


# The statements of _insert_together, by the plans and row counts they join; bounded, as
# the counts vary (a lead has as many blocking keys as its fields give).
_together: dict[tuple[tuple[_PlainInsert, int], ...], str] = {}
_TOGETHER_KEPT = 512


def _insert_together(connection: Connection, groups: list[tuple[tuple[Table, bool], list[dict[str, Any]]]]) -> None:
    """PostgreSQL, a record's few rows: one statement, every table's rows an INSERT of it
    (the others as data-modifying WITH queries, which run to completion; foreign keys are
    checked at the statement's end, so the order does not matter). One round trip, where
    a pipeline of one executemany per table cost psycopg a sixth of an API create's CPU."""
    dialect = connection.dialect
    parts: list[tuple[_PlainInsert, int]] = []
    values: list[Any] = []
    for (table, ignore_conflicts), same_table in groups:
        for shape in _by_keys(same_table):
            plan = _plain_insert(table, tuple(shape[0]), ignore_conflicts, dialect)
            parts.append((plan, len(shape)))
            for row in shape:
                values.extend(plan.parameters(row))
    key = tuple(parts)
    sql = _together.get(key)
    if sql is None:
        inserts = [plan.of_rows(count) for plan, count in parts]
        withs = ", ".join(f"deferred_{n} AS ({insert})" for n, insert in enumerate(inserts[:-1]))
        sql = _numbered((f"WITH {withs} " if withs else "") + inserts[-1])
        if len(_together) < _TOGETHER_KEPT:
            _together[key] = sql
    with driver_cursor(connection, sql, numbered=True) as cursor:
        cursor.execute(sql, values)


def _numbered(sql: str) -> str:
    """``sql``'s ``%s`` placeholders as PostgreSQL's own ``$1``, ``$2`` …: psycopg parses a
    ``%s`` statement longer than 4 KB anew on every run (a tenth of a worker's time, whose
    batches join several records' rows), and passes a numbered one through untouched."""
    pieces = sql.split("%s")
    return "".join(f"{piece}${n}" if n < len(pieces) else piece for n, piece in enumerate(pieces, 1))


@contextmanager
def driver_cursor(connection: Connection, statement: str, *, numbered: bool = False) -> Iterator[Any]:
    """A cursor of the driver's own on ``connection``, closed after use; the driver's errors
    come out as SQLAlchemy's (an ``IntegrityError`` callers may catch), as if ``statement``
    had gone through SQLAlchemy. ``numbered``: psycopg's cursor for ``$1``-style SQL."""
    dialect = connection.dialect
    driver_connection = connection.connection.driver_connection
    if numbered:
        from psycopg import RawCursor  # only ever asked for on PostgreSQL

        cursor = RawCursor(driver_connection)
    else:
        cursor = driver_connection.cursor()
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()


def _by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The rows in runs that give the same columns (executemany needs one shape), keeping
    their order: ids follow the order the rows were added in (the outbox's order)."""
    runs: list[list[dict[str, Any]]] = []
    for row in rows:
        if runs and runs[-1][0].keys() == row.keys():
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _insert_unnest(connection: Connection, table: Table, rows: list[dict[str, Any]], ignore_conflicts: bool) -> None:
    insert_unnest(connection, table, rows, tail=" ON CONFLICT DO NOTHING" if ignore_conflicts else "")


def insert_unnest(connection: Connection, table: Table, rows: list[dict[str, Any]], *, tail: str = "") -> Any:
    """PostgreSQL: ``INSERT … SELECT * FROM unnest(<one array per column>)`` — a short
    statement whatever the number of rows, where a multi-row VALUES list costs SQLAlchemy
    and psycopg time for every placeholder. Column defaults and bind processing (UTC
    datetimes, JSONB) are applied here as Core would. ``tail``: an ON CONFLICT or
    RETURNING clause; the result is the driver's."""
    dialect = connection.dialect
    given = set().union(*rows)
    names = [column.name for column in table.columns if column.name in given or _python_default(column) is not None]
    arrays: list[list[Any]] = [[] for _ in names]
    processors = [table.columns[name].type._cached_bind_processor(dialect) for name in names]  # noqa: SLF001
    for row in rows:
        for index, name in enumerate(names):
            if name in row:
                arrays[index].append(row[name])
            else:
                default = _python_default(table.columns[name])
                arrays[index].append(None if default is None else column_default_value(default))
    for index, process in enumerate(processors):
        if process is not None:
            arrays[index] = [None if value is None else process(value) for value in arrays[index]]
    casts = ", ".join(binary_array(table.columns[name], dialect) for name in names)
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns}) SELECT * FROM unnest({casts})"
    return connection.exec_driver_sql(sql + tail, tuple(arrays))


def binary_array(column: Column[Any], dialect: Dialect) -> str:
    """PostgreSQL: the placeholder of an array of ``column``'s values, bound in binary
    (psycopg's text format escapes every element through a regular expression, eight times
    the CPU per row of the binary one)."""
    return f"%b::{column.type.dialect_impl(dialect).compile(dialect=dialect)}[]"


def _python_default(column: Any) -> Any:
    default = column.default
    return default if default is not None and (default.is_scalar or default.is_callable) else None


def column_default_value(default: Any) -> Any:
    """The value a column's Python-side default (or ``onupdate``) gives."""
    return default.arg if default.is_scalar else default.arg(None)


def _write_before_savepoint(connection: Connection, _name: str) -> None:
    waiting = connection.info.get(_ON_CONNECTION)
    if waiting is not None:
        waiting.write(connection)


def _drop_on_connection(connection: Connection, *_args: Any) -> None:
    waiting = connection.info.pop(_ON_CONNECTION, None)
    if waiting is not None:
        waiting.drop()


event.listen(Engine, "savepoint", _write_before_savepoint)
event.listen(Engine, "rollback_savepoint", _drop_on_connection)
event.listen(Engine, "rollback", _drop_on_connection)
event.listen(Engine, "commit", _drop_on_connection)
