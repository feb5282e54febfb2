"""Reads the lead pages and the lead API show beyond one record's CRUD: a rep's work
queue, speed to lead, recent imports, web forms and the duplicate pairs to review. Rows
that are records come back only if the viewer may see them."""

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.errors import NotFound
from pipewise.leads.dedup import review_list
from pipewise.leads.importer import visible_imports
from pipewise.leads.models import FormSubmission, Lead, LeadForm, LeadImport
from pipewise.records.service import RecordService

CLOSED_STATUSES = ("converted", "disqualified")


def work_queue_statement(session: Session, actor: Actor, *, scope: str) -> Select[tuple[Lead]]:
    """Open leads by score, best first: ``mine`` (the actor's), ``team`` (the actor's and
    their teams'), ``queues`` (nobody's yet) or anything else for every open lead the actor
    may see. (The query-plan test reads it.)"""
    stmt = select(Lead).where(Lead.status.not_in(CLOSED_STATUSES))
    if scope == "mine" or (scope == "team" and not actor.team_ids):
        stmt = stmt.where(Lead.owner_id == actor.id)
    elif scope == "team":
        teammates = select(User.id).where(User.team_id.in_(actor.team_ids)).scalar_subquery()
        stmt = stmt.where((Lead.owner_id == actor.id) | Lead.owner_id.in_(teammates))
    elif scope == "queues":
        stmt = stmt.where(Lead.owner_id.is_(None))
    repo = RecordService("lead").repository(session)
    return repo.visible(stmt, actor).order_by(Lead.score.desc(), Lead.created_at.desc())


def work_queue(session: Session, actor: Actor, *, scope: str, limit: int) -> list[Lead]:
    return list(session.scalars(work_queue_statement(session, actor, scope=scope).limit(limit)))


def speed_to_lead(session: Session, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Milliseconds from a form post to the first touch, for the leads that have one."""
    if not lead_ids:
        return {}
    rows = session.execute(
        select(FormSubmission.lead_id, FormSubmission.speed_to_lead_ms)
        .where(FormSubmission.lead_id.in_(lead_ids), FormSubmission.speed_to_lead_ms.is_not(None))
    ).all()
    return {lead_id: ms for lead_id, ms in rows}


def recent_imports(session: Session, actor: Actor, *, limit: int) -> list[LeadImport]:
    """The newest imports the actor may see."""
    stmt = visible_imports(select(LeadImport), actor).order_by(LeadImport.created_at.desc()).limit(limit)
    return list(session.scalars(stmt))


def lead_forms(session: Session) -> list[LeadForm]:
    return list(session.scalars(select(LeadForm).order_by(LeadForm.name)))


def lead_form(session: Session, form_id: uuid.UUID) -> LeadForm:
    form = session.get(LeadForm, form_id)
    if form is None:
        raise NotFound(f"no form with id {form_id}")
    return form


def pairs_to_review(session: Session, actor: Actor, *, limit: int) -> list[dict[str, Any]]:
    """Open pairs, best first, that the actor may review (``dedup.review_list``: both records
    visible to them), each with its two records."""
    pairs = []
    for pair in review_list(session, actor, limit=limit):
        left = RecordService(pair.record_type).repository(session).get(pair.record_id, actor)
        right = RecordService(pair.candidate_type).repository(session).get(pair.candidate_id, actor)
        if left is not None and right is not None:
            pairs.append({"pair": pair, "left": left, "right": right})
    return pairs
