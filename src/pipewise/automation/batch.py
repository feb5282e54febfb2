"""What a worker's batch loads once for all its items: the enrollments its steps move (locked),
the records they run on, the workflows and versions, and the open runs on the records a batch
of events is about. Everything here is a ``WorkerBatch`` on the transaction's unit of work
(the identity map holds rows only weakly); outside a worker's batch each lookup falls back
to a query of its own."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.automation.models import Enrollment, Workflow, WorkflowVersion
from pipewise.db.base import among
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events.models import ScheduledAction
from pipewise.records.registry import spec_for

RUNNING_STATES = ("running", "waiting")


@dataclass
class WorkerBatch:
    """What one transaction of a worker's batch has loaded for all its items."""

    # Workflow and version rows by (model, id).
    rows: dict[tuple[type, uuid.UUID], Any] = field(default_factory=dict)
    # The records the steps run on, held so that ``session.get`` finds them.
    records: list[Any] = field(default_factory=list)
    # The enrollments the batch's steps move, locked; None for one that is gone.
    locked: dict[uuid.UUID, Enrollment | None] = field(default_factory=dict)
    # The running enrollments per record a batch of events is about; None when not loaded.
    open_runs: dict[uuid.UUID, list[Enrollment]] | None = None
    # (workflow ids, record ids, the (workflow, record) pairs enrolled once and for all).
    enrolled: tuple[Any, Any, set[tuple[uuid.UUID, uuid.UUID]]] | None = None


def worker_batch(session: Session) -> WorkerBatch:
    return unit_of_work(session).state(WorkerBatch)


def held(session: Session, model: type, row_id: uuid.UUID) -> Any:
    """A workflow or version row, loaded once per transaction (a worker's batch)."""
    rows = worker_batch(session).rows
    row = rows.get((model, row_id))
    if row is None:
        row = rows[(model, row_id)] = session.get(model, row_id)
    return row


def hold_records(session: Session, record_type: str, ids: Iterable[uuid.UUID]) -> None:
    """Load records of one type in one statement, so ``session.get`` finds them."""
    wanted = set(ids)
    if wanted:
        model = spec_for(record_type).model
        worker_batch(session).records.extend(session.scalars(select(model).where(among(session, model.id, wanted))))


def prepare_steps(session: Session, actions: list[ScheduledAction]) -> None:
    """Before a worker runs a batch of steps: lock their enrollments (in id order, so two
    workers never wait on each other in a cycle) and load their workflows and records."""
    ids = sorted({uuid.UUID(action.payload["enrollment_id"]) for action in actions})
    locked = worker_batch(session).locked
    locked.update(dict.fromkeys(ids))
    found = session.scalars(select(Enrollment).where(Enrollment.id.in_(ids)).order_by(Enrollment.id).with_for_update())
    record_ids: dict[str, set[uuid.UUID]] = {}
    for enrollment in found:
        locked[enrollment.id] = enrollment
        record_ids.setdefault(enrollment.record_type, set()).add(enrollment.record_id)
        held(session, Workflow, enrollment.workflow_id)
        held(session, WorkflowVersion, enrollment.version_id)
    for record_type, same_type in record_ids.items():
        hold_records(session, record_type, same_type)


def locked_enrollment(session: Session, enrollment_id: uuid.UUID) -> Enrollment | None:
    locked = worker_batch(session).locked
    if enrollment_id in locked:
        return locked[enrollment_id]
    return session.scalar(select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update())


def prepare_open_runs(session: Session, record_ids: set[uuid.UUID]) -> None:
    """Load the running enrollments on ``record_ids`` (the records a batch of events is
    about) in one statement; enrollments the batch itself makes are added as it goes."""
    batch = worker_batch(session)
    if batch.open_runs is None:
        batch.open_runs = {}
    runs = batch.open_runs
    for record_id in record_ids:
        runs.setdefault(record_id, [])
    if record_ids:
        for enrollment in session.scalars(
            select(Enrollment).where(among(session, Enrollment.record_id, record_ids), Enrollment.status.in_(RUNNING_STATES))
        ):
            runs[enrollment.record_id].append(enrollment)


def track_new(session: Session, enrollment: Enrollment) -> None:
    runs = worker_batch(session).open_runs
    if runs is not None:
        runs.setdefault(enrollment.record_id, []).append(enrollment)


def open_runs(session: Session, record_ids: set[uuid.UUID], event_id: int) -> list[Enrollment]:
    """The running enrollments on ``record_ids`` that ``event_id`` did not start."""
    runs = worker_batch(session).open_runs
    if runs is None or not record_ids <= runs.keys():
        return list(session.scalars(
            select(Enrollment).where(
                Enrollment.record_id.in_(record_ids), Enrollment.status.in_(RUNNING_STATES),
                Enrollment.trigger_event_id.is_distinct_from(event_id),
            )
        ))
    return [
        enrollment for record_id in record_ids for enrollment in runs[record_id]
        if enrollment.status in RUNNING_STATES and enrollment.trigger_event_id != event_id
    ]


def prepare_enrolled(session: Session, workflow_ids: set[uuid.UUID], record_ids: set[uuid.UUID]) -> None:
    """Load which of ``record_ids`` the listening workflows enrolled once and for all
    (run key ""), so a batch of events can enroll the others without a statement each."""
    known: set[tuple[uuid.UUID, uuid.UUID]] = set()
    if workflow_ids and record_ids:
        known.update((row.workflow_id, row.record_id) for row in session.execute(
            select(Enrollment.workflow_id, Enrollment.record_id)
            .where(Enrollment.workflow_id.in_(workflow_ids), Enrollment.record_id.in_(record_ids), Enrollment.run_key == "")
        ))
    worker_batch(session).enrolled = (workflow_ids, record_ids, known)


def enrolled_once(session: Session, workflow_id: uuid.UUID, record_id: uuid.UUID) -> bool | None:
    """Whether the workflow enrolled the record once and for all, as the batch knows it
    (counting enrollments the batch made); None when the batch did not load it."""
    workflows, records, known = worker_batch(session).enrolled or ((), (), set())
    if workflow_id not in workflows or record_id not in records:
        return None
    if (workflow_id, record_id) in known:
        return True
    known.add((workflow_id, record_id))  # the caller enrolls it now
    return False
