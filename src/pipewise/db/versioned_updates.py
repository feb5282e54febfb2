"""The changed rows of a worker batch, written one statement per table and shape.

A versioned record (``db.base.Versioned``) is updated by the ORM with
``SET version = <old> + 1 … WHERE id = ? AND version = <old>``; SQLAlchemy sends that as
one statement per row, to read each row's count, never as an executemany. A worker batch
that scores and routes two hundred leads changes two hundred of them, the same columns of
each: two hundred round trips on PostgreSQL, a seventh of the worker's time per lead.

``write`` sends the changes of such objects with the same version check, per table and
set of changed columns: SQL written once, run by the driver's executemany (SQLite), or
one statement for all the rows from an array per column (PostgreSQL, from a few rows on);
the total count of rows matched must be the number of rows, or the flush
fails with SQLAlchemy's ``StaleDataError``, as it would have. The objects are then marked
as flushed. An object it cannot write exactly as the ORM would (a relationship or an
in-place mutation pending, a mapper with update events, a server-side default on update,
a table of its own for a subclass) is left to the ORM's flush, as is a shape of one row."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import ColumnProperty, Mapper, Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState

from pipewise.db import process_cache
from pipewise.db.deferred_inserts import (
    UNNEST_FROM,
    binary_array,
    bind_processing,
    column_default_value,
    driver_cursor,
    placeholder,
    processed,
)


def _writable(mapper: Mapper[Any]) -> bool:
    table = mapper.local_table
    return (
        mapper.version_id_col is not None
        and mapper.version_id_generator is not False
        and mapper.inherits is None
        and isinstance(table, Table)
        and len(mapper.primary_key) == 1
        and not mapper.dispatch.before_update
        and not mapper.dispatch.after_update
        and all(column.server_onupdate is None for column in table.columns)
        and all(column.onupdate is None or column.onupdate.is_callable or column.onupdate.is_scalar for column in table.columns)
    )


_WRITABLE: dict[Mapper[Any], bool] = {}


def _changes(state: InstanceState[Any]) -> dict[str, Any] | None:
    """The changed columns of ``state``'s row by column key, or None when the ORM must
    write it (anything pending besides plain column values)."""
    mapper = state.mapper
    if "_pending_mutations" in state.__dict__:
        return None
    changed: dict[str, Any] = {}
    for key, committed in state.committed_state.items():
        prop = mapper._props.get(key)  # noqa: SLF001 - the mapper's own table of properties, read only
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1 or prop.columns[0].table is not mapper.local_table:
            return None
        if prop.columns[0].primary_key:  # a row that changes its key is the ORM's to move
            return None
        value = state.dict.get(key, NO_VALUE)
        if value is NO_VALUE:
            return None
        if committed is NO_VALUE or state.manager[key].impl.is_equal(value, committed) is not True:
            changed[prop.columns[0].key] = value
    return changed


class _PlainUpdate:
    """``UPDATE table SET <columns> = … WHERE <key> = ? AND <version> = ?``, written once as
    SQL with the columns' bind processing: through SQLAlchemy's execute, building and
    converting each row's parameters was half of writing a batch's leads. On SQLite the
    driver's executemany runs it per row. On PostgreSQL, from ``UNNEST_FROM`` rows, the rows
    go as one array per column in one statement (``UPDATE … FROM unnest(…)``), which the
    server plans and runs once instead of once a row."""

    def __init__(self, table: Table, version: Column[Any], columns: tuple[str, ...], dialect: Dialect) -> None:
        (key_column,) = table.primary_key.columns
        self.columns = columns
        changed = [table.columns[key] for key in columns]
        every = [*changed, key_column, version]
        self.processing = bind_processing(every, dialect)
        quote, mark = dialect.identifier_preparer.quote, placeholder(dialect)
        name = dialect.identifier_preparer.format_table(table)
        self.sql = (
            f"UPDATE {name} SET {', '.join(f'{quote(column.name)} = {mark}' for column in changed)} "
            f"WHERE {quote(key_column.name)} = {mark} AND {quote(version.name)} = {mark}"
        )
        self.unnest_sql: str | None = None
        if dialect.name == "postgresql":
            given = [f"v{n}" for n in range(len(every))]
            self.unnest_sql = (
                f"UPDATE {name} SET {', '.join(f'{quote(column.name)} = v.{v}' for column, v in zip(changed, given[:-2], strict=True))} "
                f"FROM unnest({', '.join(binary_array(column, dialect) for column in every)}) AS v({', '.join(given)}) "
                f"WHERE {name}.{quote(key_column.name)} = v.{given[-2]} AND {name}.{quote(version.name)} = v.{given[-1]}"
            )

    def parameters(self, row: dict[str, Any], key: Any, old_version: Any) -> list[Any]:
        return processed([*(row[column] for column in self.columns), key, old_version], self.processing)

    def run(self, connection: Any, parameters: list[list[Any]]) -> int:
        """Update the rows of ``parameters``; how many rows matched."""
        if self.unnest_sql is not None and len(parameters) >= UNNEST_FROM:
            with driver_cursor(connection, self.unnest_sql) as cursor:
                cursor.execute(self.unnest_sql, [list(values) for values in zip(*parameters, strict=True)])
                return int(cursor.rowcount)
        with driver_cursor(connection, self.sql) as cursor:
            cursor.executemany(self.sql, parameters)
            return int(cursor.rowcount)


_plain_updates: dict[tuple[Table, tuple[str, ...], str], _PlainUpdate] = {}


def write(session: Session, connection: Any) -> None:
    """Write the changed versioned rows of ``session`` that share a table and a set of
    changed columns with another, one executemany each (see the module's docstring)."""
    groups: dict[tuple[Mapper[Any], tuple[str, ...]], list[tuple[InstanceState[Any], dict[str, Any]]]] = defaultdict(list)
    for state in list(session.identity_map._modified):  # noqa: SLF001 - SQLAlchemy's own set, read only
        mapper = state.mapper
        writable = _WRITABLE.get(mapper)
        if writable is None:
            writable = _WRITABLE[mapper] = _writable(mapper)
        if not writable or state.key is None or state in session._deleted:  # noqa: SLF001
            continue
        changes = _changes(state)
        if changes:
            groups[(mapper, tuple(sorted(changes)))].append((state, changes))
    written = [(mapper, members) for (mapper, _columns), members in groups.items() if len(members) > 1]
    for mapper, members in written:
        _write_group(session, connection, mapper, members)
    if written:
        process_cache.forget(session, {mapper.class_ for mapper, _members in written})


def _write_group(
    session: Session, connection: Any, mapper: Mapper[Any], members: list[tuple[InstanceState[Any], dict[str, Any]]]
) -> None:
    table: Table = mapper.local_table  # type: ignore[assignment]
    version: Column[Any] = mapper.version_id_col  # type: ignore[assignment]
    (key_column,) = mapper.primary_key
    on_update = {column.key: column.onupdate for column in table.columns if column.onupdate is not None}
    columns = tuple(sorted({*members[0][1], *on_update, version.key}))
    plan_key = (table, columns, connection.dialect.name)
    plan = _plain_updates.get(plan_key)
    if plan is None:
        plan = _plain_updates[plan_key] = _PlainUpdate(table, version, columns, connection.dialect)
    stamped = {key: column_default_value(default) for key, default in on_update.items()}
    version_key, id_key = mapper._columntoproperty[version].key, mapper._columntoproperty[key_column].key  # noqa: SLF001
    rows: list[dict[str, Any]] = []
    parameters: list[list[Any]] = []
    for state, changes in members:
        old = state.dict[version_key]
        row = {**stamped, **changes, version.key: mapper.version_id_generator(old)}  # type: ignore[operator]
        rows.append(row)
        parameters.append(plan.parameters(row, state.dict[id_key], old))
    matched = plan.run(connection, parameters)
    if matched != len(rows):
        raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update {len(rows)} row(s); {matched} were matched.")
    _mark_flushed(session, mapper, [state for state, _changes in members], rows)


def _mark_flushed(session: Session, mapper: Mapper[Any], states: Iterable[InstanceState[Any]], rows: list[dict[str, Any]]) -> None:
    """The values written are the objects' own, and the objects are clean, as after the ORM's flush."""
    properties, table = mapper._columntoproperty, mapper.local_table  # noqa: SLF001
    for state, row in zip(states, rows, strict=True):
        for column_key, value in row.items():
            state.dict[properties[table.c[column_key]].key] = value
        state._commit_all(state.dict, session.identity_map)  # noqa: SLF001 - as the ORM's flush marks its rows
