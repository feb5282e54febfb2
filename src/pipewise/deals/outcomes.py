"""What followed for the deals of some records after a moment each: whether a deal was
created or moved forward, whether one was won, how long the win took and what it was
worth. The holdout effect reports read it (see ``runs/holdout_effect.py`` for the
definitions); the records come as links (record id, deal id, since), so that a contact
reaches its deals through the deal's contacts, an account through its deals, and a deal
is its own."""

import uuid
from typing import Any

from sqlalchemy import Select, and_, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealContact, DealStageChange, Stage
from pipewise.deals.service import deal_service
from pipewise.runs.holdout import HoldoutAssignment
from pipewise.runs.holdout_effect import RecordOutcome

SECONDS_PER_DAY = 86_400


def assigned_links(record_type: str, scope: str, subject_id: uuid.UUID) -> Select | None:
    """(record id, deal id, since) for a subject's assigned records of a type that has
    deals of its own; None for other types."""
    base = HoldoutAssignment.scope == scope, HoldoutAssignment.subject_id == subject_id
    since = HoldoutAssignment.assigned_at.label("since")
    if record_type == "deal":
        return select(HoldoutAssignment.record_id, HoldoutAssignment.record_id.label("deal_id"), since).where(*base)
    if record_type == "contact":
        return (
            select(HoldoutAssignment.record_id, DealContact.deal_id, since)
            .join(DealContact, DealContact.contact_id == HoldoutAssignment.record_id)
            .where(*base)
        )
    if record_type == "account":
        return (
            select(HoldoutAssignment.record_id, Deal.id.label("deal_id"), since)
            .join(Deal, Deal.account_id == HoldoutAssignment.record_id)
            .where(*base)
        )
    return None


def _moved_forward(since: Any) -> Any:
    """A stage change since ``since`` to a later open stage or to a won one."""
    before, after = aliased(Stage), aliased(Stage)
    return (
        select(literal_column("1"))
        .select_from(DealStageChange)
        .join(after, after.id == DealStageChange.to_stage_id)
        .outerjoin(before, before.id == DealStageChange.from_stage_id)
        .where(
            DealStageChange.deal_id == Deal.id,
            DealStageChange.at >= since,
            or_(after.kind == "won", and_(after.kind == "open", or_(before.id.is_(None), after.position > before.position))),
        )
        .exists()
    )


def outcomes_after(session: Session, links: Select, *, actor: Actor) -> dict[uuid.UUID, RecordOutcome]:
    """Per record, what its deals did after its moment; only deals ``actor`` may see
    count. Records without such a deal are absent (nothing followed)."""
    link = links.subquery()
    stmt = (
        select(link.c.record_id, link.c.since, Deal.created_at, Deal.closed_at, Deal.amount, Stage.kind,
               _moved_forward(link.c.since).label("moved"))
        .join(Deal, Deal.id == link.c.deal_id)
        .join(Stage, Stage.id == Deal.stage_id)
    )
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for row in session.execute(deal_service.repository(session).visible(stmt, actor)):
        into = found.setdefault(row.record_id, {"progressed": False, "won": False, "cycle_days": None, "revenue": 0.0})
        into["progressed"] |= bool(row.moved) or row.created_at >= row.since
        if row.kind == "won" and row.closed_at is not None and row.closed_at >= row.since:
            into["won"] = into["progressed"] = True
            into["revenue"] += float(row.amount or 0)
            days = max(0.0, (row.closed_at - max(row.created_at, row.since)).total_seconds() / SECONDS_PER_DAY)
            into["cycle_days"] = days if into["cycle_days"] is None else min(into["cycle_days"], days)
    return {record_id: RecordOutcome(**values) for record_id, values in found.items()}
