"""The unit of work: everything that lives for one database transaction besides its rows.

A ``UnitOfWork`` is reached as ``unit_of_work(session)``. It is made on first use and
dropped when the session's outermost transaction ends (commit, rollback or close), so
nothing it holds outlives the transaction it was gathered in. It holds:

- ``lookups``: reference lookups cached for the rest of the transaction
  (``db.session.cached_lookup``); forgotten when a savepoint rolls back and, per model,
  when an instance of that model is added, changed or deleted through the session;
- ``deferred_inserts``: rows waiting to be written as one multi-row INSERT per table
  (``db.session.insert_later``, see ``db/deferred_inserts.py``);
- ``connection``: the transaction's connection, once asked for (``session.connection()``
  costs a walk of the session's transaction state per call);
- ``write_lock``: on SQLite, the write turn this transaction holds (``db.session.begin_write``,
  ``db/writer_turn.py``), given back when the transaction ends;
- ``optimistic``: set by the worker while it runs a batch without a savepoint per item
  (``events.bus.optimistic``): a failure should propagate so the batch runs again item
  by item;
- work to do right before the transaction commits (``before_commit``): what a batch
  gathered to write in one statement at its end (the notifications of a worker batch),
  written before the deferred rows, so that the rows it adds go out with them;
- work to do once the transaction has committed (``after_commit``): callbacks that run
  after the commit, once the transaction's connection and locks are given back, and
  never when it rolls back;
- per-package state, one object per type (``state(SomeType)``): a package declares what
  it keeps for the transaction as a class of its own (the worker batch of
  ``automation/batch.py``, the messages ``mail/delivery.py`` delivers after commit,
  scoring's "score at the end" flag), instead of a string key on ``session.info``.

The unit of work itself sits in one ``session.info`` slot; nothing else does (the
connection only points at the rows waiting on it, see ``db/deferred_inserts.py``)."""

import logging
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

from pipewise.db.deferred_inserts import DeferredInserts
from pipewise.db.writer_turn import WriterTurn

log = logging.getLogger("pipewise.db")

T = TypeVar("T")
_SLOT = "pipewise.unit_of_work"


class _ModifiedClasses:
    """The classes of the objects of a session changed since they were loaded or flushed,
    read from the identity map's modified states (which hold at least ``session.dirty``:
    that one compares every modified object's attribute history). Kept between asks and
    brought up to date with set operations: a worker batch holding some hundred changed
    leads asked for every lookup, and gathering the classes each time was about a
    fifteenth of its time."""

    def __init__(self) -> None:
        self._tracked: set[Any] | None = None
        self._seen: set[Any] = set()
        self._classes: set[type] = set()

    def of(self, session: Session) -> set[type]:
        modified = session.identity_map._modified  # noqa: SLF001 - SQLAlchemy's own set, read only
        if modified is not self._tracked or not self._seen <= modified:  # a new map, or states flushed, expired, expunged
            self._tracked, self._seen = modified, set(modified)
            self._classes = {state.class_ for state in modified}
        elif len(modified) != len(self._seen):
            added = modified - self._seen
            self._seen |= added
            self._classes.update(state.class_ for state in added)
        return self._classes


def _changed_any(session: Session, model: type, modified: _ModifiedClasses) -> bool:
    """Whether an object of ``model`` in ``session`` was changed or deleted since it was
    loaded or flushed."""
    return any(issubclass(cls, model) for cls in modified.of(session)) or any(isinstance(obj, model) for obj in session.deleted)


class UnitOfWork:
    """The per-transaction state of one session (see the module's docstring)."""

    def __init__(self) -> None:
        self.lookups: dict[type, dict[Hashable, Any]] = {}
        self.deferred_inserts = DeferredInserts()
        self.write_lock: WriterTurn | None = None
        # The transaction's connection, once asked for (db.session._connection).
        self.connection: Connection | None = None
        self.optimistic = False
        # Fills in what a deferred row leaves unset (the demo's story clock backdates
        # timestamps this way); None: the columns' own defaults apply.
        self.stamp_rows: Callable[[Any, dict[str, Any]], None] | None = None
        self._states: dict[type, Any] = {}
        self._before_commit: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False
        self._modified = _ModifiedClasses()

    # -- cached lookups --

    def lookup(self, session: Session, model: type, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per transaction for ``key``; ``model`` is what it reads."""
        if model in self.lookups and _changed_any(session, model, self._modified):
            del self.lookups[model]
        entries = self.lookups.setdefault(model, {})
        if key not in entries:
            entries[key] = compute()
        return entries[key]  # type: ignore[no-any-return]

    def forget(self, model: type | None = None) -> None:
        """Drop the cached lookups of ``model`` (and of its bases), or all of them."""
        if model is None:
            self.lookups.clear()
            return
        for cached_model in [m for m in self.lookups if issubclass(model, m)]:
            del self.lookups[cached_model]

    # -- per-package state --

    def state(self, kind: type[T]) -> T:
        """This transaction's ``kind()``, made on first use."""
        found = self._states.get(kind)
        if found is None:
            found = self._states[kind] = kind()
        return found  # type: ignore[no-any-return]

    # -- before and after commit --

    def before_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once, right before the next commit (or the release of a
        savepoint), before the deferred rows are written. A failing callback fails the
        commit, which then rolls back."""
        self._before_commit.append(callback)

    def run_before_commit(self) -> None:
        callbacks, self._before_commit = self._before_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed and ended; a failing
        callback is logged (the commit has happened) and the others still run. Work
        registered inside a savepoint that then rolls back still runs at the commit."""
        self._after_commit.append(callback)

    def _end(self, *, committed: bool) -> None:
        lock, self.write_lock = self.write_lock, None
        if lock is not None:
            lock.release()
        self.forget()
        if not committed:
            return
        for callback in self._after_commit:
            try:
                callback()
            except Exception:  # noqa: BLE001 - the transaction is committed; later work must not fail it
                log.exception("after-commit work %r failed", callback)


def unit_of_work(session: Session) -> UnitOfWork:
    """The session's unit of work for its current (or next) transaction."""
    found = session.info.get(_SLOT)
    if found is None:
        found = session.info[_SLOT] = UnitOfWork()
    return found  # type: ignore[no-any-return]


def existing_unit_of_work(session: Session) -> UnitOfWork | None:
    """The session's unit of work if anything has used it, without making one."""
    return session.info.get(_SLOT)


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    # Fired for a savepoint's release too, while it is still the nested transaction.
    work = session.info.get(_SLOT)
    if work is not None and not session.in_nested_transaction():
        work._committed = True


@event.listens_for(Session, "after_transaction_end")
def _end_of_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    work = session.info.pop(_SLOT, None)
    if work is not None:
        work._end(committed=work._committed)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous: SessionTransaction) -> None:
    work = session.info.get(_SLOT)
    if work is not None:
        work.forget()


@event.listens_for(Session, "transient_to_pending")
def _forget_after_add(session: Session, instance: object) -> None:
    work = session.info.get(_SLOT)
    if work is not None:
        work.forget(type(instance))
