"""Rows deferred with ``insert_later`` are written as one statement per table, in
foreign-key order, before anything that may read them, and rolled back with their
savepoint; column defaults, JSON and NULLs come out as a direct insert would write them."""

import uuid

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import Decision, Enrollment, RecordTag, WorkflowVersion
from pipewise.automation.service import workflow_service
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import insert_later
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events.models import ScheduledAction

DEFINITION = {"trigger": {"type": "record_created", "record_type": "contact"}, "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]}


@pytest.fixture
def workflow(session):  # type: ignore[no-untyped-def]
    row = workflow_service.create(session, name="deferred", definition=DEFINITION, actor=SYSTEM_ACTOR)
    session.flush()
    row.test_version_id = session.scalar(select(WorkflowVersion.id).where(WorkflowVersion.workflow_id == row.id))
    return row


def enrollment_row(workflow, record_id: uuid.UUID) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": uuid7(), "workflow_id": workflow.id, "version_id": workflow.test_version_id,
        "record_type": "contact", "record_id": record_id, "run_key": "", "status": "running", "current_step": None,
        "attempt": 0, "action_key": None, "wait_until": None, "wait_event": None, "armed_goals": [],
        "finished_at": None, "exit_reason": None, "test_mode": False, "tester_id": None, "trigger_event_id": None,
        "enrolled_at": utcnow(),
    }


def decision_row(workflow, enrollment: dict, message: str) -> dict:  # type: ignore[no-untyped-def]
    return {"workflow_id": workflow.id, "version_number": 1, "enrollment_id": enrollment["id"], "record_type": "contact",
            "record_id": enrollment["record_id"], "kind": "acted", "step_id": None, "message": message,
            "details": {"values": {"amount": 1200, "nested": [1, None]}}, "at": utcnow()}


def test_rows_wait_until_a_read_and_keep_foreign_key_order(session, workflow):
    first = enrollment_row(workflow, uuid7())
    # A decision about the enrollment is deferred before the enrollment itself.
    insert_later(session, Decision, decision_row(workflow, first, "one"))
    insert_later(session, Enrollment, first, ignore_conflicts=False)
    insert_later(session, Decision, decision_row(workflow, first, "two"))
    # A plain insert into an unrelated table does not write them ...
    session.execute(insert(ScheduledAction).values(key="k", kind="noop", payload={}, run_at=utcnow(), status="pending"))
    assert unit_of_work(session).deferred_inserts
    # ... a read does, enrollment first, decisions in the order they were made.
    rows = session.execute(select(Decision.message, Decision.details, Decision.step_id).order_by(Decision.id)).all()
    assert [(r.message, r.details, r.step_id) for r in rows] == [
        ("one", {"values": {"amount": 1200, "nested": [1, None]}}, None),
        ("two", {"values": {"amount": 1200, "nested": [1, None]}}, None),
    ]
    assert session.scalar(select(Enrollment.armed_goals).where(Enrollment.id == first["id"])) == []


def test_column_defaults_are_applied_to_every_row_that_leaves_the_column_out(session, workflow):
    record_id, stamp = uuid7(), utcnow()
    insert_later(session, RecordTag, {"record_type": "contact", "record_id": record_id, "tag": "vip"})
    insert_later(session, RecordTag, {"record_type": "contact", "record_id": record_id, "tag": "old", "created_at": stamp})
    tags = dict(session.execute(select(RecordTag.tag, RecordTag.created_at).where(RecordTag.record_id == record_id)).all())
    assert tags["vip"] is not None and tags["old"] == stamp


def test_a_savepoint_rollback_drops_the_rows_deferred_inside_it(session, workflow):
    kept = enrollment_row(workflow, uuid7())
    insert_later(session, Enrollment, kept, ignore_conflicts=False)
    nested = session.begin_nested()  # writes what was deferred before it
    insert_later(session, Enrollment, enrollment_row(workflow, uuid7()), ignore_conflicts=False)
    nested.rollback()
    session.commit()
    assert session.scalar(select(func.count()).select_from(Enrollment)) == 1


def test_conflicts_are_ignored_or_fail_as_asked(session, workflow):
    record_id = uuid7()
    for _ in range(2):
        insert_later(session, RecordTag, {"record_type": "contact", "record_id": record_id, "tag": "vip", "created_at": utcnow()})
    assert session.scalar(select(func.count()).select_from(RecordTag)) == 1
    row = enrollment_row(workflow, record_id)
    insert_later(session, Enrollment, row, ignore_conflicts=False)
    insert_later(session, Enrollment, {**row, "id": uuid7()}, ignore_conflicts=False)
    with pytest.raises(IntegrityError):
        session.flush()
        session.scalar(select(func.count()).select_from(Enrollment))
