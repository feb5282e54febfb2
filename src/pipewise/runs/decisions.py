"""Writing a run's decisions. Both engines log every decision as one row: which run, which
step, what kind, why in words, the data behind it, and when. Their tables differ in the
run's columns (a workflow version and any record; a sequence and a contact) and in what
they call the rest, so each engine describes its table once as a ``DecisionLog``."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.db.session import insert_later


@dataclass(frozen=True)
class DecisionLog:
    """A decision table: the model and the names of its kind, reason and data columns.
    ``deferred``: the row is written with the transaction's other writes (``insert_later``)
    rather than added to the session, for an engine that logs many decisions per batch."""

    model: type
    kind_column: str = "kind"
    reason_column: str = "reason"
    data_column: str = "data"
    deferred: bool = False

    def write(
        self, session: Session, *, kind: str, reason: str, at: datetime, step_id: object | None = None,
        data: dict[str, Any] | None = None, **run_columns: Any,
    ) -> Any:
        """Log one decision; returns the row (None when deferred)."""
        values = {
            **run_columns,
            "step_id": step_id,
            self.kind_column: kind,
            self.reason_column: reason,
            self.data_column: data or {},
            "at": at,
        }
        if self.deferred:
            insert_later(session, self.model, values)
            return None
        row = self.model(**values)
        session.add(row)
        return row
