"""Engine and session handling. The boundary (request, CLI command, worker job) commits."""

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.schema import sort_tables
from sqlalchemy.sql.dml import Insert

from pipewise.config import get_settings

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and cannot take the write lock
    # up front; we emit BEGIN ourselves (SQLAlchemy's documented recipe). Writers begin
    # IMMEDIATE so two writers queue on busy_timeout instead of failing on lock upgrade.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):  # type: ignore[no-untyped-def]
        mode = "IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)  # type: ignore[arg-type]


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def reset_engine() -> None:
    """Forget the cached engine (tests and CLI commands that switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


# SQLite has one writer at a time. Threads that wait for it inside SQLite's busy handler
# sleep in growing steps (1, 2, 5, 10 … ms) and leave the database idle meanwhile; the
# writers of one process queue on a lock instead, and only other processes (a separate
# worker, the CLI) meet busy_timeout. After the timeout a writer falls back to SQLite's wait.
_WRITE_LOCK_TIMEOUT = 15.0
_HELD_LOCK = "pipewise.sqlite_write_lock"
_sqlite_write_locks: dict[str, "threading.Lock"] = {}
_locks_guard = threading.Lock()


def _sqlite_write_lock(session: Session) -> "threading.Lock | None":
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not bind.url.database or bind.url.database == ":memory:":
        return None
    with _locks_guard:
        return _sqlite_write_locks.setdefault(bind.url.database, threading.Lock())


def begin_write(session: Session) -> None:
    """Mark the session's transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
    lock = _sqlite_write_lock(session)
    if lock is not None and _HELD_LOCK not in session.info and lock.acquire(timeout=_WRITE_LOCK_TIMEOUT):
        session.info[_HELD_LOCK] = lock
    try:
        session.connection(execution_options={"sqlite_write": True})
    except BaseException:
        _release_write_lock(session)
        raise


def _release_write_lock(session: Session) -> None:
    lock = session.info.pop(_HELD_LOCK, None)
    if lock is not None:
        lock.release()


@contextmanager
def session_scope(*, write: bool = True) -> Iterator[Session]:
    session = get_sessionmaker()()
    try:
        if write:
            begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dialect_insert(session: Session) -> Any:
    """The ``insert`` of the session's database, which knows ``on_conflict_do_nothing``."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# -- inserts deferred to one multi-row statement --
#
# A batch that adds many small rows (a tag per workflow step, an enrollment per event) writes
# them as one INSERT per table rather than one each. The rows wait on the connection and are
# written before a statement that may read them or point at them (not before a plain INSERT
# into an unrelated table), before an ORM flush, before a savepoint opens (so that its
# rollback leaves them) and before commit; a rollback drops the rows deferred since the
# transaction or savepoint began. ``ignore_conflicts=False`` rows fail the statement on a
# unique violation, which fails the transaction: for callers that then run again without
# deferring (a worker's optimistic batch).

_DEFERRED_KEY = "pipewise.deferred_inserts"
_DEFERRED_CHUNK = 1000


def insert_later(session: Session, model: type, row: dict[str, Any], *, ignore_conflicts: bool = True) -> None:
    """Insert ``row`` into ``model``'s table before a statement that may need it."""
    pending = session.connection().info.setdefault(_DEFERRED_KEY, {})
    pending.setdefault((model.__table__, ignore_conflicts), []).append(row)


def _write_deferred(connection: Connection) -> None:
    pending = connection.info.pop(_DEFERRED_KEY, None)
    if not pending:
        return
    order = {table: n for n, table in enumerate(sort_tables({table for table, _ignore in pending}))}
    for (table, ignore_conflicts), rows in sorted(pending.items(), key=lambda item: order[item[0][0]]):
        if connection.dialect.name == "postgresql":
            _insert_unnest(connection, table, rows, ignore_conflicts)
            continue
        for start in range(0, len(rows), _DEFERRED_CHUNK):
            statement = sqlite_insert(table).values(rows[start : start + _DEFERRED_CHUNK])
            connection.execute(statement.on_conflict_do_nothing() if ignore_conflicts else statement)


def _insert_unnest(connection: Connection, table: Table, rows: list[dict[str, Any]], ignore_conflicts: bool) -> None:
    """PostgreSQL: ``INSERT … SELECT * FROM unnest(<one array per column>)`` — a short
    statement whatever the number of rows, where a multi-row VALUES list costs SQLAlchemy
    and psycopg time for every placeholder. Column defaults and bind processing (UTC
    datetimes, JSONB) are applied here as Core would."""
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
                arrays[index].append(None if default is None else default.arg if default.is_scalar else default.arg(None))
    for index, process in enumerate(processors):
        if process is not None:
            arrays[index] = [None if value is None else process(value) for value in arrays[index]]
    casts = ", ".join(f"%s::{table.columns[name].type.dialect_impl(dialect).compile(dialect=dialect)}[]" for name in names)
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns}) SELECT * FROM unnest({casts})"
    connection.exec_driver_sql(sql + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""), tuple(arrays))


def _python_default(column: Any) -> Any:
    default = column.default
    return default if default is not None and (default.is_scalar or default.is_callable) else None


def _drop_deferred(connection: Connection, *_args: Any) -> None:
    connection.info.pop(_DEFERRED_KEY, None)


def _needs_deferred(statement: Any, pending: dict[tuple[Any, bool], Any]) -> bool:
    """Whether ``statement`` may read or reference the deferred rows: anything but a plain
    ``INSERT … VALUES`` into a table that is not deferred and has no foreign key to one."""
    if not isinstance(statement, Insert) or statement.select is not None:
        return True
    deferred_tables = {table for table, _ignore in pending}
    table = statement.table
    return table in deferred_tables or any(fk.column.table in deferred_tables for fk in table.foreign_keys)


@event.listens_for(Session, "do_orm_execute")
def _deferred_before_statement(state: Any) -> None:
    if not state.session.in_transaction():
        return
    connection = state.session.connection()
    pending = connection.info.get(_DEFERRED_KEY)
    if pending and _needs_deferred(state.statement, pending):
        _write_deferred(connection)


@event.listens_for(Session, "before_flush")
@event.listens_for(Session, "before_commit")
def _deferred_before_flush(session: Session, *_args: Any) -> None:
    if session.in_transaction():
        _write_deferred(session.connection())


event.listen(Engine, "savepoint", lambda connection, _name: _write_deferred(connection))
event.listen(Engine, "rollback_savepoint", _drop_deferred)
event.listen(Engine, "rollback", _drop_deferred)
event.listen(Engine, "commit", _drop_deferred)


def refresh_statistics() -> None:
    """Give SQLite's query planner current table statistics (PostgreSQL's autovacuum keeps
    its own). Without them it guesses, and e.g. a rep's filtered list sorts a quarter of
    all contacts instead of walking the newest first. ``analysis_limit`` samples each index
    (about 15 ms for 100,000 contacts; a smaller sample misled the planner in our benchmark)."""
    if not get_settings().is_sqlite:
        return
    with session_scope() as session:
        session.execute(text("PRAGMA analysis_limit=10000"))
        session.execute(text("ANALYZE"))


# -- lookups cached for the rest of a transaction --
#
# Writing many records in one transaction (an import, a batch job) would otherwise repeat
# the same reference lookups (custom-field definitions, "is this owner an active user?")
# per record, and each lookup also autoflushes the previous record, defeating batched
# INSERTs. A cached lookup is dropped when the transaction ends, when a savepoint rolls
# back, and when an instance of the looked-up model is added, changed or deleted through
# this session. Bulk UPDATE/DELETE statements on that model are not seen.

T = TypeVar("T")
_CACHE_KEY = "pipewise.transaction_cache"


def cached_lookup(session: Session, model: type, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per transaction for ``key``; ``model`` is what the lookup reads."""
    cache: dict[type, dict[Hashable, Any]] = session.info.setdefault(_CACHE_KEY, {})
    if model in cache and any(isinstance(obj, model) for obj in (*session.dirty, *session.deleted)):
        del cache[model]
    entries = cache.setdefault(model, {})
    if key not in entries:
        entries[key] = compute()
    return entries[key]


def _forget(session: Session, model: type | None = None) -> None:
    cache = session.info.get(_CACHE_KEY)
    if not cache:
        return
    if model is None:
        cache.clear()
        return
    for cached_model in [m for m in cache if issubclass(model, m)]:
        del cache[cached_model]


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        _forget(session)
        _release_write_lock(session)


@event.listens_for(Session, "after_soft_rollback")
def _cache_after_rollback(session: Session, _previous: SessionTransaction) -> None:
    _forget(session)


@event.listens_for(Session, "transient_to_pending")
def _cache_after_add(session: Session, instance: object) -> None:
    _forget(session, type(instance))
