"""Engine and session handling. The boundary (request, CLI command, worker job) commits."""

import functools
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, inspect, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.pool import NullPool

from pipewise.config import get_settings
from pipewise.db import liveness, process_cache, versioned_updates, wal
from pipewise.db.deferred_inserts import UNNEST_FROM, insert_unnest
from pipewise.db.plain_statement import PlainStatement
from pipewise.db.unit_of_work import UnitOfWork, existing_unit_of_work, unit_of_work
from pipewise.db.writer_turn import WriterTurn

M = TypeVar("M")

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)


_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED"}
_QUERY_ONLY = "pipewise.query_only"  # on a pooled SQLite connection's record: read_only_scope set it


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
        _ensure_math_functions(dbapi_connection)

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection, record):  # type: ignore[no-untyped-def]
        if record.info.pop(_QUERY_ONLY, False):
            dbapi_connection.execute("PRAGMA query_only=OFF")

    @event.listens_for(engine, "begin")
    def on_begin(conn):  # type: ignore[no-untyped-def]
        # Straight to the driver: SQLAlchemy's statement machinery cost a tenth of a
        # one-record write transaction here, for a statement that is always the same.
        mode = "IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "DEFERRED"
        conn.connection.driver_connection.execute(_BEGIN[mode])


def _ensure_math_functions(dbapi_connection: Any) -> None:
    """The report histograms bucket lengths with ln() and floor(), which SQLite has only
    when built with its math functions; otherwise Python's stand in."""
    try:
        dbapi_connection.execute("SELECT ln(1), floor(1)")
    except sqlite3.OperationalError:
        dbapi_connection.create_function("ln", 1, math.log, deterministic=True)
        dbapi_connection.create_function("floor", 1, math.floor, deterministic=True)


def _json_text(value: Any) -> str:
    # orjson: a history row, an outbox payload and a record's custom fields are serialised on
    # every write, and json.dumps was a tenth of a batched create. Non-string keys become
    # strings, as json.dumps made them.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: object) -> Engine:
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
        _configure_sqlite(engine)
        return engine
    settings = get_settings()
    if "poolclass" not in kwargs:
        if settings.database_pool_size == 0:
            kwargs["poolclass"] = NullPool
        else:
            kwargs.setdefault("pool_size", settings.database_pool_size)
            kwargs.setdefault("max_overflow", settings.database_max_overflow)
    if settings.database_pooler == "pgbouncer":
        # Between two of our transactions the pooler lends the server connection to other
        # clients, so a statement psycopg prepared on it (after five uses) would be missing
        # for us or already there for them ('prepared statement "_pg3_0" already exists').
        kwargs["connect_args"] = {"prepare_threshold": None, **dict(kwargs.get("connect_args") or {})}  # type: ignore[call-overload]
    engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
    if not kwargs.get("pool_pre_ping"):
        liveness.ping_idle_connections(engine)
    return engine


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    if settings.sqlite_background_checkpoints:
        wal.checkpoint_in_background(engine)
    return engine


class PipewiseSession(Session):
    _autoflushing = False

    def flush(self, objects: Any = None) -> None:
        # An explicit flush also writes the deferred inserts (db/deferred_inserts.py), even
        # when the ORM itself has nothing to flush: after it, the rows are in the database
        # for any statement, raw ones included, and a constraint they break fails here. An
        # autoflush leaves them waiting for a statement that needs them.
        work = existing_unit_of_work(self)
        if not self._autoflushing and work is not None and work.deferred_inserts and self.in_transaction():
            work.deferred_inserts.write(self.connection())
        super().flush(objects)

    def _autoflush(self) -> None:
        self._autoflushing = True
        try:
            super()._autoflush()
        finally:
            self._autoflushing = False


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), class_=PipewiseSession, expire_on_commit=False)


def reset_engine() -> None:
    """Forget the cached engine (tests and CLI commands that switch databases)."""
    process_cache.clear_all()  # what it read belongs to the old database
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


# SQLite has one writer at a time; writers take turns (db/writer_turn.py) instead of
# waiting in SQLite's busy handler, which sleeps in growing steps and leaves the database
# idle meanwhile. After the timeout a writer falls back to SQLite's wait. The unit of work
# holds the turn and gives it back when its transaction ends.
_WRITE_LOCK_TIMEOUT = 15.0
_writer_turns: dict[str, WriterTurn] = {}
_turns_guard = threading.Lock()


def _writer_turn(session: Session) -> WriterTurn | None:
    bind = session.get_bind()
    database = bind.url.database
    if bind.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    with _turns_guard:
        turn = _writer_turns.get(database)
        if turn is None:
            turn = _writer_turns[database] = WriterTurn(database)
        return turn


def take_write_turn_now(session: Session, *, held: WriterTurn | None = None) -> bool:
    """On SQLite, the write turn for the session's next transaction if it is free this
    moment, or ``held``, a turn the caller has and hands on (``begin_write`` then finds it
    held); False if it is not free, or not SQLite."""
    turn = _writer_turn(session)
    work = unit_of_work(session)
    if turn is None or work.write_lock is not None or (held is not turn and not turn.try_acquire()):
        return False
    work.write_lock = turn
    return True


def wait_for_write_turn(session: Session) -> WriterTurn | None:
    """On SQLite, block until the write turn of the session's database is this thread's
    (or the wait times out, None); the caller passes it on with ``take_write_turn_now``
    or lets it go."""
    turn = _writer_turn(session)
    return turn if turn is not None and turn.acquire(timeout=_WRITE_LOCK_TIMEOUT) else None


def kept_waiting_lately(within: float) -> bool:
    """On SQLite, whether another process held the write turn when this one asked for it,
    within the last ``within`` seconds."""
    database = get_engine().url.database
    turn = _writer_turns.get(database) if database else None
    return turn is not None and time.monotonic() - turn.last_kept_waiting < within


def begin_write(session: Session) -> None:
    """Mark the session's transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
    turn = _writer_turn(session)
    work = unit_of_work(session)
    if turn is not None and work.write_lock is None and turn.acquire(timeout=_WRITE_LOCK_TIMEOUT):
        work.write_lock = turn
    try:
        work.connection = session.connection(execution_options={"sqlite_write": True})
    except BaseException:
        held, work.write_lock = work.write_lock, None
        if held is not None:
            held.release()
        raise


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


@contextmanager
def read_only_scope() -> Iterator[Session]:
    """A session whose transaction may only read: a write fails at once instead of taking
    the database's writer (on SQLite, its connection refuses writes until it goes back to
    the pool)."""
    with session_scope(write=False) as session:
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield session
            return
        connection.connection.info[_QUERY_ONLY] = True  # undone as it goes back to the pool
        connection.connection.driver_connection.execute("PRAGMA query_only=ON")
        yield session


def dialect_insert(session: Session) -> Any:
    """The ``insert`` of the session's database, which knows ``on_conflict_do_nothing``."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


_ignoring_inserts: dict[tuple[Any, ...], Any] = {}


def insert_ignoring(
    session: Session, model: type, *, conflict_on: tuple[str, ...] = (), returning: str | tuple[str, ...] | None = None,
    plain: bool = False, columns: tuple[str, ...] | None = None,
) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` into ``model``'s table (on the ``conflict_on``
    columns, else any), optionally ``RETURNING`` one column or several; executed with the values as
    parameters. Built once per database kind: ``.values(...)`` per call made a new
    statement, and SQLAlchemy a new cache key over every value. ``plain``: as a
    ``PlainStatement``, for ``read`` to run on the driver's cursor, with every column given
    or, with ``columns``, those (the others, such as an autoincremented key, the database's)."""
    key = (session.get_bind().dialect.name, model, conflict_on, returning, plain, columns)
    statement = _ignoring_inserts.get(key)
    if statement is None:
        statement = dialect_insert(session)(model)
        if columns is not None:
            table = model.__table__  # type: ignore[attr-defined]
            statement = statement.values({name: bindparam(name, type_=table.c[name].type) for name in columns})
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict_on) or None)
        if returning is not None:
            names = (returning,) if isinstance(returning, str) else returning
            statement = statement.returning(*(model.__table__.c[name] for name in names))  # type: ignore[attr-defined]
        if plain:
            statement = PlainStatement(statement)
        _ignoring_inserts[key] = statement
    return statement


def insert_ignoring_rows(
    session: Session, model: type, rows: list[dict[str, Any]], *, conflict_on: tuple[str, ...], returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """``insert_ignoring`` run now for many ``rows``, each with the same keys: the
    ``returning`` columns of those inserted. On PostgreSQL, from ``UNNEST_FROM`` rows, one
    ``unnest`` statement: SQLAlchemy's multi-row VALUES cost it and psycopg time for every
    placeholder (and psycopg parses such a statement anew at every run)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= UNNEST_FROM:
        table = model.__table__  # type: ignore[attr-defined]
        quote = connection.dialect.identifier_preparer.quote
        tail = (f" ON CONFLICT ({', '.join(map(quote, conflict_on))}) DO NOTHING"
                f" RETURNING {', '.join(map(quote, returning))}")
        return [tuple(row) for row in insert_unnest(connection, table, rows, tail=tail).all()]
    statement = insert_ignoring(session, model, conflict_on=conflict_on, returning=returning)
    return [tuple(row) for row in connection.execute(statement, rows).all()]


# -- inserts deferred to one multi-row statement (see db/deferred_inserts.py) --


def insert_later(session: Session, model: type, row: dict[str, Any], *, ignore_conflicts: bool = True) -> None:
    """Insert ``row`` into ``model``'s table before a statement that may need it."""
    work = unit_of_work(session)
    table = model.__table__  # type: ignore[attr-defined]
    if work.stamp_rows is not None:
        work.stamp_rows(table, row)
    work.deferred_inserts.add(_connection(session, work), table, row, ignore_conflicts=ignore_conflicts)


def add_later(session: Session, model: type[M], values: dict[str, Any]) -> M:
    """A new ``model`` object, persistent in ``session`` at once, whose row goes out with
    the deferred inserts: one cached executemany per table at the next statement that may
    read it, flush or commit, instead of a trip through the ORM's unit of work (most of
    a one-record transaction's time). Every column is filled here (Python defaults, the
    version at 1), so reading the object back needs no query."""
    work = unit_of_work(session)
    if work.stamp_rows is not None:
        values = dict(values)
        work.stamp_rows(model.__table__, values)  # type: ignore[attr-defined]
    row: dict[str, Any] = {}
    state: dict[str, Any] = {}
    for attribute_key, column_key, default in _column_plan(model):
        if attribute_key in values:
            value = values[attribute_key]
        elif default is _NO_VALUE:
            continue
        else:
            value = default() if callable(default) else default
        row[column_key] = state[attribute_key] = value
    # Filled in place of ``model(**state)``: the constructor's attribute events record
    # changes that the next line marks as committed anyway (half of this function's time).
    instance = class_mapper(model).class_manager.new_instance()
    instance_state(instance).dict.update(state)
    make_transient_to_detached(instance)
    session.add(instance)
    work.deferred_inserts.add(_connection(session, work), model.__table__, row, ignore_conflicts=False)  # type: ignore[attr-defined]
    work.forget(model)
    process_cache.forget(session, {model})
    return instance


_NO_VALUE = object()


def _connection(session: Session, work: UnitOfWork) -> Connection:
    """The session's connection, kept by its unit of work for the rest of the transaction
    (``session.connection()`` walks the session's transaction state each time: a tenth of
    a one-record write went there). Inside a savepoint the session is asked each time: it
    emits the SAVEPOINT only when its connection is first asked for."""
    if session.in_nested_transaction():
        return session.connection()
    connection = work.connection
    if connection is None or connection.closed:
        connection = work.connection = session.connection()
    return connection


@lru_cache(maxsize=None)
def _column_plan(model: type) -> tuple[tuple[str, str, Any], ...]:
    """Per mapped column of ``model``: its attribute and column names and what a new row
    holds when not given — a value, a callable making one, or ``_NO_VALUE`` for the
    database's own default. The version starts at 1."""
    mapper = inspect(model)
    plan = []
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        if column is mapper.version_id_col:
            default: Any = 1
        elif column.default is not None and column.default.is_scalar:
            default = column.default.arg
        elif column.default is not None and column.default.is_callable:
            default = functools.partial(column.default.arg, None)
        elif column.server_default is None:
            default = None
        else:
            default = _NO_VALUE
        plan.append((attribute.key, column.key, default))
    return tuple(plan)


def read(session: Session, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
    """Run a Core ``statement`` on the session's connection, without the ORM's execute
    machinery (about half the time of a small indexed read), after writing the deferred
    rows it may read, as an ORM execute would. A ``PlainStatement`` goes straight to the
    driver and gives its rows as tuples (``Rows``)."""
    work = existing_unit_of_work(session)
    connection = session.connection() if work is None else _connection(session, work)
    plain = isinstance(statement, PlainStatement)
    if work is not None and work.deferred_inserts and (
        work.deferred_inserts.needed_by(statement.statement, tables_read=statement.tables_read) if plain
        else work.deferred_inserts.needed_by(statement)
    ):
        work.deferred_inserts.write(connection)
    return statement.rows(connection, parameters or {}) if plain else connection.execute(statement, parameters)


@event.listens_for(Session, "do_orm_execute")
def _deferred_before_statement(state: Any) -> None:
    work = existing_unit_of_work(state.session)
    if work is not None and work.deferred_inserts and state.session.in_transaction() and work.deferred_inserts.needed_by(state.statement):
        work.deferred_inserts.write(state.session.connection())


def _write_deferred(session: Session) -> UnitOfWork | None:
    """Write the rows waiting in the session's transaction; its unit of work, if it has one."""
    work = existing_unit_of_work(session)
    if work is None or not session.in_transaction():
        return None
    if work.deferred_inserts:
        work.deferred_inserts.write(_connection(session, work))
    return work


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, *_args: Any) -> None:
    work = _write_deferred(session)
    # A worker batch's many changed records: one executemany per table and shape. Not
    # where the demo's story clock stamps changed rows in its own before_flush.
    if work is not None and work.optimistic and work.stamp_rows is None and session.identity_map._modified:  # noqa: SLF001
        versioned_updates.write(session, _connection(session, work))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    work = existing_unit_of_work(session)
    if work is not None and session.in_transaction():
        work.run_before_commit()
    _write_deferred(session)


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


def cached_lookup(session: Session, model: type, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per transaction for ``key``; ``model`` is what the lookup reads."""
    return unit_of_work(session).lookup(session, model, key, compute)


def has_cached_lookup(session: Session, model: type, key: Hashable) -> bool:
    """Whether ``key`` is cached already (a lookup may still find it stale and compute it
    again), so that lookups of many keys can be made in one statement."""
    work = existing_unit_of_work(session)
    return work is not None and key in work.lookups.get(model, {})
