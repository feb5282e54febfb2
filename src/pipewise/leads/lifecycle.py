"""The lead lifecycle: subscriber → lead → MQL → SQL → opportunity → customer, or
disqualified (with a reason). Every change of stage is a ``lead.lifecycle_changed`` event."""

from typing import Any

from sqlalchemy.orm import Session

from pipewise.errors import ErrorCollector
from pipewise.events import bus
from pipewise.leads.events import LeadLifecycleChanged
from pipewise.leads.models import Lead

STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
LIFECYCLE_STAGES = (*STAGES, "disqualified")
STAGE_LABELS = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "mql": "Marketing qualified",
    "sql": "Sales qualified",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "disqualified": "Disqualified",
}


def rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else -1


def check_stage(data: dict[str, Any], record: Lead | None, errors: ErrorCollector) -> None:
    """Validate a stage change inside a create/update and keep status in step with it."""
    stage = data.get("lifecycle_stage")
    status = data.get("status")
    if stage is None and status == "disqualified":
        data["lifecycle_stage"] = stage = "disqualified"
    if stage is None:
        return
    if stage not in LIFECYCLE_STAGES:
        errors.add("lifecycle_stage", f"must be one of {', '.join(LIFECYCLE_STAGES)}")
        return
    if stage == "disqualified":
        if not (data.get("disqualified_reason") or getattr(record, "disqualified_reason", None)):
            errors.add("disqualified_reason", "say why the lead is disqualified")
        data.setdefault("status", "disqualified")
    elif record is not None and record.lifecycle_stage == "disqualified" and data.get("status") in (None, "disqualified"):
        # Requalifying a lead puts it back to work.
        data["status"] = "working"
        data.setdefault("disqualified_reason", None)


def announce(session: Session, lead: Lead, old: str | None, new: str, *, actor_id: Any, cause: str) -> None:
    bus.record(
        session,
        LeadLifecycleChanged(
            record_id=lead.id,
            actor_id=actor_id,
            from_stage=old,
            to=new,
            reason=lead.disqualified_reason if new == "disqualified" else None,
            cause=cause,
        ),
    )


def move_stage(session: Session, lead: Lead, stage: str, *, actor: Any, cause: str, reason: str | None = None) -> bool:
    """Move a lead to ``stage`` outside a user edit (a score threshold, a won deal);
    written to history and announced like any other change. False if already there."""
    from pipewise.records.history import record_change
    from pipewise.records.service import apply_changes

    old = lead.lifecycle_stage
    if old == stage:
        return False
    data: dict[str, Any] = {"lifecycle_stage": stage}
    if stage == "disqualified":
        data.update(status="disqualified", disqualified_reason=reason)
    changes = apply_changes(lead, data)
    record_change(session, record_type="lead", record_id=lead.id, action="updated", changes=changes, actor=actor)
    announce(session, lead, old, stage, actor_id=getattr(actor, "id", None), cause=cause)
    return True
