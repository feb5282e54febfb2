"""Reference data kept for a few seconds by each process.

Some lookups run on almost every write and change almost never: the custom-field
definitions of a record type, whether an owner is an active user. Per transaction they
are cached already (``unit_of_work.lookup``); one record per transaction, the common case
of an API call or a form post, still paid a query for each. A ``ProcessCache`` keeps them
across transactions:

- a change this process makes to one of the cache's models empties it when the change is
  flushed and again when it commits (another thread may have read the old rows between
  the two), so this process sees its own changes at once;
- a change made by another process (the CLI, a second API process) is seen within
  ``ttl`` seconds.

What must be exact across processes (an API token's revocation) does not belong here."""

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from pipewise.db.unit_of_work import unit_of_work

T = TypeVar("T")
_caches: list["ProcessCache[Any]"] = []


class ProcessCache(Generic[T]):
    def __init__(self, name: str, *, models: tuple[type, ...], ttl: float = 5.0) -> None:
        self.name = name
        self.models = models
        self.ttl = ttl
        self._entries: dict[Hashable, tuple[float, T]] = {}
        self._lock = threading.Lock()
        _caches.append(self)

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value, or ``compute()``; computed afresh, not kept, while ``session``
        holds unflushed changes to the cache's models (it must see its own changes)."""
        if _has_changes(session, self.models):
            return compute()
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and now - found[0] < self.ttl:
            return found[1]
        value = compute()
        if value is not None:  # what is missing now may exist a moment later: ask again
            with self._lock:
                self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _has_changes(session: Session, models: tuple[type, ...]) -> bool:
    return any(isinstance(obj, models) for obj in (*session.new, *session.dirty, *session.deleted))


def clear_all() -> None:
    """Forget every cached entry (the engine points at another database, or rows were
    deleted behind the ORM's back)."""
    for cache in _caches:
        cache.clear()


def forget(session: Session, changed: set[type]) -> None:
    """``session`` is changing rows of the ``changed`` models: empty the caches that read
    them now and again once the change commits."""
    for cache in _caches:
        if any(issubclass(kind, cache.models) for kind in changed):
            cache.clear()
            unit_of_work(session).after_commit(cache.clear)


@event.listens_for(Session, "before_flush")
def _forget_changed(session: Session, _flush_context: Any, _instances: Any) -> None:
    changed = {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    if changed:
        forget(session, changed)
