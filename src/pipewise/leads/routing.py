"""Routing a lead, orchestrated: the assignment package says where a lead goes and keeps
the assignment; this module gives the lead its owner or queue, tracks its first touch and
runs the response-time SLA timer."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipewise.assignment import service as assignment
from pipewise.assignment.models import LeadAssignment
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.db.base import utcnow
from pipewise.leads.models import Lead
from pipewise.leads.service import lead_service
from pipewise.records.history import record_change
from pipewise.records.service import apply_changes


def assign(
    session: Session, lead: Lead, *, actor: Actor = SYSTEM_ACTOR, cause: str = "routing",
    exclude: set[uuid.UUID] | None = None, submission_id: uuid.UUID | None = None, deferred: bool = False,
) -> LeadAssignment | None:
    """Route ``lead`` by the rules; None when no rule can place it (and, ``deferred``, when
    it could: see ``assignment.service.record_assignment``)."""
    placement = assignment.place(session, lead.id, account_id=lead.account_id, exclude=exclude)
    if placement is None:
        return None
    return _give(session, lead, placement, actor=actor, cause=cause, submission_id=submission_id, deferred=deferred)


def assign_by_hand(session: Session, lead_id: uuid.UUID, owner_id: uuid.UUID, *, actor: Actor) -> LeadAssignment:
    lead = lead_service.get(session, lead_id, actor=actor, write=True)
    placement = assignment.placement_by_hand(session, owner_id, actor=actor)
    given = _give(session, lead, placement, actor=actor, cause=f"by {actor.name or 'hand'}")
    assert given is not None  # only a deferred assignment comes back as none
    return given


def _give(
    session: Session, lead: Lead, placement: assignment.Placement, *, actor: Actor, cause: str,
    submission_id: uuid.UUID | None = None, deferred: bool = False,
) -> LeadAssignment | None:
    now = utcnow()
    was_assigned = lead.assigned_at is not None
    owner_id = placement.owner.id if placement.owner else None
    changes = apply_changes(lead, {"owner_id": owner_id, "queue": placement.queue, "assigned_at": now})
    record_change(session, record_type="lead", record_id=lead.id, action="updated", changes=changes, actor=actor)
    return assignment.record_assignment(session, lead.id, placement, at=now, replaces=was_assigned, actor=actor,
                                        cause=cause, submission_id=submission_id, deferred=deferred)


def first_touch(session: Session, lead_id: uuid.UUID, at: datetime) -> None:
    """A person acted on the lead (a call, an e-mail, a meeting, a note)."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return
    if lead.first_touched_at is None:
        lead.first_touched_at = at
    assignment.touched(session, lead_id, at)


def check_sla(session: Session, action: Any) -> None:
    """The SLA timer: an assignment nobody acted on in time is breached, the lead goes to
    someone else (when the policy says so) and the manager is told."""
    overdue = assignment.overdue(session, action.payload)
    if overdue is None:
        return
    lead = session.get(Lead, overdue.lead_id)
    if lead is None or lead.status in ("converted", "disqualified"):
        return
    assignment.mark_breached(overdue)
    reassigned = None
    if assignment.policy(session).reassign_on_breach:
        reassigned = assign(session, lead, cause="response time missed",
                            exclude={overdue.owner_id} if overdue.owner_id else set())
    assignment.report_breach(session, overdue, lead_name=lead.full_name, reassigned=reassigned)
