"""Every decision the engine makes, stored with a sentence a rep can read, and shown on
the record's timeline and in the workflow's run history."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.automation.models import Decision, Enrollment, Workflow
from pipewise.db.base import utcnow
from pipewise.records.timeline import TimelineEntry
from pipewise.runs.decisions import DecisionLog

# kind -> the heading shown before the sentence on the timeline
HEADINGS = {
    "enrolled": "Enrolled",
    "not_enrolled": "Not enrolled",
    "waiting": "Waiting",
    "waited": "Waited",
    "acted": "Done",
    "skipped": "Skipped",
    "branched": "Branched",
    "goal_armed": "Goal set",
    "exited": "Left the workflow",
    "completed": "Finished",
    "retrying": "Failed, will retry",
    "failed": "Failed",
    "paused": "Paused",
    "resumed": "Resumed",
    "cancelled": "Cancelled",
    "retried": "Retried",
    "held_out": "Held out",
}


# Decisions are many per worker batch: written with the transaction's other writes.
DECISION_LOG = DecisionLog(Decision, reason_column="message", data_column="details", deferred=True)


def record_decision(
    session: Session,
    *,
    workflow: Workflow,
    version_number: int,
    kind: str,
    message: str,
    enrollment: Enrollment | None = None,
    record_type: str | None = None,
    record_id: uuid.UUID | None = None,
    step_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Store the decision with the transaction's other writes (written before anything
    reads decisions, see ``insert_later``)."""
    DECISION_LOG.write(
        session,
        kind=kind,
        reason=message,
        at=at or utcnow(),
        step_id=step_id,
        data=details,
        workflow_id=workflow.id,
        version_number=version_number,
        enrollment_id=enrollment.id if enrollment is not None else None,
        record_type=enrollment.record_type if enrollment is not None else record_type,
        record_id=enrollment.record_id if enrollment is not None else record_id,
        test_mode=bool(enrollment is not None and enrollment.test_mode),
    )


def sentence(decision: Decision) -> str:
    """``"Not enrolled: deal.amount 1,200 is below 5,000"``."""
    return f"{HEADINGS.get(decision.kind, decision.kind)}: {decision.message}"


def decisions_for_record(session: Session, record_type: str, record_id: uuid.UUID, *, limit: int = 200) -> list[tuple[Decision, str]]:
    rows = session.execute(
        select(Decision, Workflow.name)
        .join(Workflow, Workflow.id == Decision.workflow_id)
        .where(Decision.record_type == record_type, Decision.record_id == record_id)
        .order_by(Decision.id.desc())
        .limit(limit)
    ).all()
    return [(d, name) for d, name in rows]


def automation_timeline(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            kind="automation",
            at=decision.at,
            title=f"{workflow_name} (v{decision.version_number}){' [test]' if decision.test_mode else ''} — {sentence(decision)}",
            detail=None,
            data={
                "workflow_id": str(decision.workflow_id),
                "enrollment_id": str(decision.enrollment_id) if decision.enrollment_id else None,
                "decision": decision.kind,
                "step": decision.step_id,
                "details": decision.details,
            },
        )
        for decision, workflow_name in decisions_for_record(session, record_type, record_id)
    ]
