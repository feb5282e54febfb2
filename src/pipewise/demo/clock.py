"""Backdating for demo data. The services stamp rows with the current time; a demo needs
a year of history, so rows added while the story is "at" some past moment get that
moment instead. Only timestamps nobody set explicitly are touched."""

import random
from datetime import datetime, timedelta

from sqlalchemy import Table, event
from sqlalchemy.orm import Session

from pipewise.db.base import utcnow
from pipewise.db.unit_of_work import unit_of_work

STAMPED_ON_INSERT = ("created_at", "updated_at", "at", "occurred_at")


class StoryClock:
    def __init__(self) -> None:
        self.now: datetime = utcnow()

    def attach(self, session: Session) -> None:
        event.listen(session, "transient_to_pending", self._stamp_new)
        event.listen(session, "before_flush", self._stamp_changed)
        # Rows written as deferred inserts (history, outbox, records made by the services)
        # are stamped as they are deferred.
        event.listen(session, "after_begin", lambda *_args: self._stamp_deferred(session))
        if session.in_transaction():
            self._stamp_deferred(session)

    def _stamp_deferred(self, session: Session) -> None:
        unit_of_work(session).stamp_rows = self._stamp_row

    def _stamp_row(self, table: Table, row: dict[str, object]) -> None:
        for name in STAMPED_ON_INSERT:
            if name in table.c and row.get(name) is None:
                row[name] = self.now

    def _stamp_new(self, _session: Session, row: object) -> None:
        for name in STAMPED_ON_INSERT:
            if hasattr(row, name) and getattr(row, name) is None:
                setattr(row, name, self.now)

    def _stamp_changed(self, session: Session, _flush_context: object, _instances: object) -> None:
        for row in session.dirty:
            if hasattr(row, "updated_at") and session.is_modified(row, include_collections=False):
                row.updated_at = self.now


def moment_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment in [start, end]; ``start`` itself when the span is empty."""
    span = max((end - start).total_seconds(), 0.0)
    return start + timedelta(seconds=rng.uniform(0, span))
