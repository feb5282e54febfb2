"""A sequence's holdout group (``runs/holdout.py``): which contacts that would enroll are
held out, the held-out enrollment that records it, the guard that stops any run of a
held-out contact, and the effect report over the contacts the viewer may see."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.deals.outcomes import assigned_links, outcomes_after
from pipewise.runs import holdout, holdout_effect
from pipewise.runs.holdout import HELD_OUT, HoldoutAssignment
from pipewise.runs.verdicts import Verdict
from pipewise.sequences.decisions import decide
from pipewise.sequences.models import Enrollment, Sequence

SCOPE = "sequence"


def _what(sequence: Sequence) -> str:
    return f"the sequence “{sequence.name}”"


def choose(session: Session, sequence: Sequence, contact_id: uuid.UUID, verdict: Verdict, now: datetime) -> HoldoutAssignment | None:
    """The contact's assignment if it is held out. A contact the guards would not let in
    is not assigned (only contacts that would enroll are split); one held out before
    stays so (its guard verdict says so)."""
    if verdict.code == HELD_OUT:
        return holdout.held_out(session, SCOPE, sequence.id, contact_id)
    if verdict.action == "exit" or (verdict.action == "pause" and verdict.until is None):
        return None
    assignment = holdout.assign(
        session, scope=SCOPE, subject_id=sequence.id, record_type="contact", record_id=contact_id,
        share=sequence.holdout_percent, at=now,
    )
    return assignment if assignment is not None and assignment.held_out else None


def hold_out(session: Session, sequence: Sequence, enrollment: Enrollment, assignment: HoldoutAssignment, *, by: str) -> Enrollment:
    """Record that the contact would have enrolled and was held out: one held-out
    enrollment per contact and sequence, and a decision each time it is held out. Nothing
    else happens: no step, no task, no e-mail."""
    row = session.scalar(
        select(Enrollment).where(
            Enrollment.sequence_id == sequence.id, Enrollment.contact_id == enrollment.contact_id, Enrollment.status == HELD_OUT,
        ).limit(1)
    )
    reason = holdout.reason(assignment, _what(sequence))
    if row is None:
        row = enrollment
        row.status, row.ended_at, row.next_run_at, row.reason = HELD_OUT, enrollment.enrolled_at, None, reason
        session.add(row)
        session.flush()
    decide(session, row, HELD_OUT, HELD_OUT, f"{reason} (enrollment asked by {by})")
    return row


def guard(session: Session, sequence: Sequence, contact_id: uuid.UUID) -> Verdict | None:
    """Exit for a held-out contact: read before every step and at the last look before SMTP."""
    assignment = holdout.held_out(session, SCOPE, sequence.id, contact_id)
    return holdout.verdict(assignment, _what(sequence)) if assignment is not None else None


def effect(session: Session, sequence: Sequence, *, actor: Actor) -> holdout_effect.HoldoutEffect:
    """Enrolled against held-out contacts, over the contacts and deals ``actor`` may see."""
    links = assigned_links("contact", SCOPE, sequence.id)
    assert links is not None
    return holdout_effect.report(
        scope=SCOPE, subject_id=sequence.id, name=sequence.name, share=sequence.holdout_percent, record_type="contact",
        what=_what(sequence), population=holdout.population(session, SCOPE, sequence.id, actor=actor),
        outcomes=outcomes_after(session, links, actor=actor),
    )
