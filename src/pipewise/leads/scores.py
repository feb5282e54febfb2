"""A lead's score, orchestrated: the scoring package computes it from the lead's facts,
this module writes it on the lead and moves the lead to MQL when the score reaches the
threshold. Everything that re-scores leads (a change, a capture, an import, engagement,
the daily decay, a trained model) comes through here."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.leads.lifecycle import move_stage, rank
from pipewise.leads.models import Lead
from pipewise.scoring import predictive, training
from pipewise.scoring import service as scoring
from pipewise.scoring.models import EngagementEvent, ScoringModel

_BEING_WORKED = Lead.status.not_in(("converted", "disqualified"))


def score_leads(
    session: Session, lead_ids: list[uuid.UUID], *, cause: str, actor: Actor = SYSTEM_ACTOR, now: datetime | None = None,
    assessed: dict[uuid.UUID, scoring.Assessment] | None = None,
) -> dict[uuid.UUID, int]:
    """Re-score ``lead_ids`` and write the scores on the leads; a lead whose score reaches
    the MQL threshold moves to MQL (from subscriber or lead). Returns the new scores.
    ``assessed``: what the scores are made of, read for a batch at ``now`` (``assess``)."""
    if not lead_ids:
        return {}
    if assessed is None:
        session.flush()
    leads = _loaded_leads(session, lead_ids)
    results = scoring.score(session, list(leads.values()), cause=cause, now=now, assessed=assessed)
    for lead_id, result in results.items():
        lead = leads[lead_id]
        lead.score, lead.fit_score, lead.engagement_score = result.score, result.fit_score, result.engagement_score
        lead.predicted_probability = result.predicted_probability
        lead.score_reasons = result.reasons
        lead.scored_at = result.scored_at
        if result.crossed == "up" and rank(lead.lifecycle_stage) in (0, 1):
            move_stage(session, lead, "mql", actor=actor,
                       cause=f"score {result.score} reached the MQL threshold {result.threshold}")
    return {lead_id: result.score for lead_id, result in results.items()}


def _loaded_leads(session: Session, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, Lead]:
    """The leads, from the session where it holds them (a capture scores the lead it has just
    written), the rest in one query."""
    leads: dict[uuid.UUID, Lead] = {}
    for lead_id in lead_ids:
        held = session.identity_map.get(identity_key(Lead, lead_id))
        if held is not None and not inspect(held).expired_attributes:
            leads[lead_id] = held
    missing = [i for i in lead_ids if i not in leads]
    if missing:
        leads.update((lead.id, lead) for lead in session.scalars(select(Lead).where(Lead.id.in_(missing))))
    return leads


def record_engagement(
    session: Session,
    lead_id: uuid.UUID,
    *,
    kind: str,
    occurred_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
    rescore: bool = True,
) -> EngagementEvent:
    """Something the lead did (an open, a click, a form fill...), and the score it makes."""
    event = scoring.add_engagement(session, lead_id, kind=kind, occurred_at=occurred_at, detail=detail)
    if rescore:
        score_leads(session, [lead_id], cause=scoring.engagement_cause(kind))
    return event


def _rescore_all(session: Session, lead_ids: list[uuid.UUID], *, cause: str) -> None:
    for start in range(0, len(lead_ids), 500):
        score_leads(session, lead_ids[start : start + 500], cause=cause)


def rescore_open(session: Session, *, cause: str = "re-scored") -> int:
    """Re-score every lead still being worked; returns how many."""
    ids = list(session.scalars(select(Lead.id).where(_BEING_WORKED)))
    _rescore_all(session, ids, cause=cause)
    return len(ids)


def run_decay(session: Session, _action: Any) -> None:
    """The daily timer: engaged leads are re-scored so that fading engagement shows."""
    engaged = list(session.scalars(select(Lead.id).where(Lead.engagement_score > 0, Lead.status != "converted")))
    _rescore_all(session, engaged, cause="engagement fading")
    if engaged:
        scoring.schedule_decay(session)


def closed_leads(session: Session) -> list[Lead]:
    """The leads a model learns from: converted or disqualified ones."""
    return list(session.scalars(select(Lead).where(
        or_(Lead.status.in_(predictive.CLOSED_STATUSES), Lead.lifecycle_stage.in_(predictive.CLOSED_STAGES))
    )))


def train_model(session: Session) -> ScoringModel:
    """Train the predictive model on this database's closed leads and make it active."""
    return predictive.train(session, closed_leads(session))


def run_training(session: Session, action: Any) -> None:
    """The worker's half of a queued training: train, then re-score the open leads."""
    training.run_training(session, action, closed_leads=closed_leads, rescore_open=rescore_open)
