"""A workflow's holdout group (``runs/holdout.py``): a record that would enroll is split
when its enrollment is made (a held-out one ends at once, with the decision that says
why), every step re-checks it before acting, and the effect report compares the groups
over the records the viewer may see. Test runs are never held out: a person chose the
record to try the workflow on."""

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.automation.models import Enrollment, Workflow
from pipewise.deals.outcomes import assigned_links, outcomes_after
from pipewise.leads.models import Lead
from pipewise.runs import holdout, holdout_effect
from pipewise.runs.holdout import HoldoutAssignment
from pipewise.runs.verdicts import Verdict

SCOPE = "workflow"


def _what(workflow: Workflow) -> str:
    return f"the workflow “{workflow.name}”"


def hold_out_new(session: Session, workflow: Workflow, enrollment: Enrollment, now: datetime) -> Verdict | None:
    """Assign a record that is enrolling now; the verdict that ends its run if it is held out."""
    if enrollment.test_mode:
        return None
    assignment = holdout.assign(
        session, scope=SCOPE, subject_id=workflow.id, record_type=enrollment.record_type, record_id=enrollment.record_id,
        share=workflow.holdout_percent, at=now,
    )
    return holdout.verdict(assignment, _what(workflow)) if assignment is not None and assignment.held_out else None


def guard(session: Session, workflow: Workflow, enrollment: Enrollment) -> Verdict | None:
    """Exit for a held-out record: read before every step, so nothing acts on it."""
    if enrollment.test_mode:
        return None
    assignment = holdout.held_out(session, SCOPE, workflow.id, enrollment.record_id)
    return holdout.verdict(assignment, _what(workflow)) if assignment is not None else None


def _links(record_type: str, subject_id: uuid.UUID) -> Select | None:
    if record_type == "lead":
        return (
            select(HoldoutAssignment.record_id, Lead.converted_deal_id.label("deal_id"), HoldoutAssignment.assigned_at.label("since"))
            .join(Lead, Lead.id == HoldoutAssignment.record_id)
            .where(HoldoutAssignment.scope == SCOPE, HoldoutAssignment.subject_id == subject_id, Lead.converted_deal_id.is_not(None))
        )
    return assigned_links(record_type, SCOPE, subject_id)


def effect(session: Session, workflow: Workflow, *, actor: Actor) -> holdout_effect.HoldoutEffect:
    """Enrolled against held-out records, over the records and deals ``actor`` may see.
    A record type without deals of its own (a task, say) has no deal outcomes to compare."""
    links = _links(workflow.record_type, workflow.id)
    return holdout_effect.report(
        scope=SCOPE, subject_id=workflow.id, name=workflow.name, share=workflow.holdout_percent,
        record_type=workflow.record_type, what=_what(workflow),
        population=holdout.population(session, SCOPE, workflow.id, actor=actor),
        outcomes=outcomes_after(session, links, actor=actor) if links is not None else {},
    )
