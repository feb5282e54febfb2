"""A lead's timeline entries for its assignments, SLA breaches and score changes."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.assignment.models import LeadAssignment
from pipewise.auth.models import User
from pipewise.records.timeline import TimelineEntry
from pipewise.scoring.models import ScoreHistory


def lead_routing_and_scores(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    if record_type != "lead":
        return []
    entries: list[TimelineEntry] = []
    names = dict(session.execute(select(User.id, User.name)).all())
    for a in session.scalars(select(LeadAssignment).where(LeadAssignment.lead_id == record_id)):
        target = names.get(a.owner_id, "nobody") if a.owner_id else f"the {a.queue} queue"
        entries.append(
            TimelineEntry(
                kind="assignment", at=a.assigned_at, title=f"Assigned to {target} by rule “{a.rule_name}”",
                detail=a.reason, data=_assignment_data(a),
            )
        )
        if a.breached_at:
            entries.append(
                TimelineEntry(
                    kind="sla", at=a.breached_at, title=f"Response time missed by {target}",
                    detail=f"first touch was due {a.sla_due_at:%Y-%m-%d %H:%M} UTC" if a.sla_due_at else None,
                    data=_assignment_data(a),
                )
            )
    for h in session.scalars(select(ScoreHistory).where(ScoreHistory.lead_id == record_id).order_by(ScoreHistory.at.desc()).limit(50)):
        entries.append(
            TimelineEntry(
                kind="score", at=h.at, title=f"Score {h.score} (fit {h.fit_score}, engagement {h.engagement_score})",
                detail=h.cause, data={"score": h.score},
            )
        )
    return entries


def _assignment_data(a: LeadAssignment) -> dict[str, Any]:
    return {"rule_id": str(a.rule_id) if a.rule_id else None, "rule": a.rule_name, "status": a.status,
            "owner_id": str(a.owner_id) if a.owner_id else None, "queue": a.queue}
