"""The changed rows of a worker batch, written one executemany per table and shape.

A versioned record (``db.base.Versioned``) is updated by the ORM with
``SET version = <old> + 1 … WHERE id = ? AND version = <old>``; SQLAlchemy sends that as
one statement per row, to read each row's count, never as an executemany. A worker batch
that scores and routes two hundred leads changes two hundred of them, the same columns of
each: two hundred round trips on PostgreSQL, a seventh of the worker's time per lead.

``write`` sends the changes of such objects the same way, with the same version check,
as one executemany per table and set of changed columns (psycopg pipelines it into one
round trip); the total count of rows matched must be the number of rows, or the flush
fails with SQLAlchemy's ``StaleDataError``, as it would have. The objects are then marked
as flushed. An object it cannot write exactly as the ORM would (a relationship or an
in-place mutation pending, a mapper with update events, a server-side default on update,
a table of its own for a subclass) is left to the ORM's flush, as is a shape of one row."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Table, bindparam, update
from sqlalchemy.orm import ColumnProperty, Mapper, Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState

from pipewise.db import process_cache
from pipewise.db.deferred_inserts import column_default_value

_OLD_VERSION, _ID, _NEW = "old_version_", "id_", "new_"


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


def _statement(table: Table, version: Column[Any], columns: tuple[str, ...]) -> Any:
    (key_column,) = table.primary_key.columns
    values = {name: bindparam(_NEW + name) for name in columns}
    return (
        update(table)
        .where(key_column == bindparam(_ID), version == bindparam(_OLD_VERSION))
        .values(values)
    )


_statements: dict[tuple[Table, tuple[str, ...]], Any] = {}


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
    statement = _statements.get((table, columns))
    if statement is None:
        statement = _statements[(table, columns)] = _statement(table, version, columns)
    stamped = {key: column_default_value(default) for key, default in on_update.items()}
    rows: list[dict[str, Any]] = []
    parameters: list[dict[str, Any]] = []
    for state, changes in members:
        old = state.dict[mapper._columntoproperty[version].key]  # noqa: SLF001
        row = {**stamped, **changes, version.key: mapper.version_id_generator(old)}  # type: ignore[operator]
        rows.append(row)
        parameters.append({**{_NEW + key: value for key, value in row.items()},
                           _ID: state.dict[mapper._columntoproperty[key_column].key], _OLD_VERSION: old})  # noqa: SLF001
    matched = connection.execute(statement, parameters).rowcount
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
