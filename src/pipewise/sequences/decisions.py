"""The decision log: every enrollment change and every touch sent, held or skipped is
stored with its reason, shown on the contact's timeline; and the orphan check, which
makes sure a contact never falls between automation and the rep."""

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from pipewise.crm.models import Contact, Task
from pipewise.records.timeline import TimelineEntry
from pipewise.runs.decisions import DecisionLog
from pipewise.sequences import clock
from pipewise.sequences.events import add_task
from pipewise.sequences.models import LIVE_STATES, Enrollment, Sequence, SequenceDecision, SequenceStep

# Decisions that describe the enrollment's current state, so their reason becomes its reason.
STATE_DECISIONS = frozenset({"enrolled", "held", "paused", "resumed", "exited", "finished", "waiting"})
DECISION_LOG = DecisionLog(SequenceDecision, kind_column="decision")


def decide(
    session: Session,
    enrollment: Enrollment,
    decision: str,
    code: str,
    reason: str,
    *,
    step_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> SequenceDecision:
    row = DECISION_LOG.write(
        session, kind=decision, reason=reason, at=clock.now(), step_id=step_id, data=data,
        enrollment_id=enrollment.id, sequence_id=enrollment.sequence_id, contact_id=enrollment.contact_id, code=code,
    )
    if decision in STATE_DECISIONS:
        enrollment.reason = reason
    return row


def has_next_touch(session: Session, contact_id: uuid.UUID) -> bool:
    """Something is already planned: a live enrollment with a scheduled step or a task
    it waits on, or an open task for the contact."""
    planned = exists().where(
        Enrollment.contact_id == contact_id,
        Enrollment.status == "active",
        (Enrollment.next_run_at.is_not(None)) | (Enrollment.waiting_task_id.is_not(None)),
    )
    open_task = exists().where(Task.related_type == "contact", Task.related_id == contact_id, Task.status == "open")
    return bool(session.scalar(select(planned | open_task)))


def orphan_check(session: Session, enrollment: Enrollment, *, what_happened: str) -> Task | None:
    """Give the owner a task when nothing else is planned for the contact."""
    session.flush()
    if has_next_touch(session, enrollment.contact_id):
        return None
    contact = session.get(Contact, enrollment.contact_id)
    if contact is None:
        return None
    sequence = session.get(Sequence, enrollment.sequence_id)
    task = add_task(
        session,
        title=f"Plan the next touch with {contact.full_name}",
        notes=f"{what_happened} (sequence “{sequence.name if sequence else '?'}”). Nothing else is scheduled for them.",
        owner_id=contact.owner_id or enrollment.sender_id,
        contact_id=contact.id,
    )
    decide(session, enrollment, "task", "orphan_check", f"Task for the owner: {what_happened}; nothing else was scheduled")
    return task


def decisions_for(session: Session, *, contact_id: uuid.UUID | None = None, enrollment_id: uuid.UUID | None = None, limit: int = 200) -> list[SequenceDecision]:
    stmt = select(SequenceDecision).order_by(SequenceDecision.at.desc(), SequenceDecision.id.desc()).limit(limit)
    if contact_id is not None:
        stmt = stmt.where(SequenceDecision.contact_id == contact_id)
    if enrollment_id is not None:
        stmt = stmt.where(SequenceDecision.enrollment_id == enrollment_id)
    return list(session.scalars(stmt))


def sequence_timeline(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    if record_type != "contact":
        return []
    rows = decisions_for(session, contact_id=record_id)
    names = dict(session.execute(select(Sequence.id, Sequence.name).where(Sequence.id.in_({r.sequence_id for r in rows}))).all())
    positions = dict(
        session.execute(select(SequenceStep.id, SequenceStep.position).where(SequenceStep.id.in_({r.step_id for r in rows if r.step_id}))).all()
    )
    return [
        TimelineEntry(
            kind="automation",
            at=r.at,
            title=f"Sequence “{names.get(r.sequence_id, '?')}”"
            + (f", step {positions[r.step_id]}" if r.step_id in positions else "")
            + f": {r.decision}",
            detail=r.reason,
            data={"decision": r.decision, "code": r.code, "enrollment_id": str(r.enrollment_id), **r.data},
        )
        for r in rows
    ]


def live_enrollments(session: Session, *, contact_ids: set[uuid.UUID] | None = None, account_id: uuid.UUID | None = None) -> list[Enrollment]:
    clauses = []
    if contact_ids:
        clauses.append(Enrollment.contact_id.in_(contact_ids))
    if account_id is not None:
        clauses.append(Enrollment.account_id == account_id)
    if not clauses:
        return []
    condition = clauses[0] if len(clauses) == 1 else (clauses[0] | clauses[1])
    return list(session.scalars(select(Enrollment).where(condition, Enrollment.status.in_(LIVE_STATES)).order_by(Enrollment.id)))
