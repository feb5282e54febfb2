"""Scoring leads: fit and decayed engagement rules, the predictive model when one is
active, score history, and the MQL threshold. Scoring is a leaf: it reads the leads it is
given (``LeadFacts``) and returns their scores; the leads package writes them on the lead
and moves the lifecycle when a score crosses the threshold. The configuration is cached
per process (``setup``)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.db.base import utcnow
from pipewise.db.session import insert_later
from pipewise.db.unit_of_work import unit_of_work
from pipewise.errors import ErrorCollector, ValidationFailed
from pipewise.events import bus
from pipewise.scoring import rules
from pipewise.scoring.events import LeadScoreCrossed
from pipewise.scoring.facts import LeadFacts
from pipewise.scoring.models import EngagementEvent, ScoreHistory, ScoringConfig
from pipewise.scoring.setup import changed, config, current

__all__ = ["config", "current"]

DECAY_ACTION = "scoring.decay"


def update_config(session: Session, data: dict[str, Any]) -> ScoringConfig:
    errors = ErrorCollector()
    row = config(session)
    if "fit_rules" in data:
        data["fit_rules"] = rules.check_rules(data["fit_rules"], errors)
    if "engagement_points" in data:
        points = data["engagement_points"]
        if not isinstance(points, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and -100 <= v <= 100 for v in points.values()
        ):
            errors.add("engagement_points", "must map each kind to whole points between -100 and 100")
    if "half_life_days" in data and not 0 < float(data["half_life_days"]) <= 3650:
        errors.add("half_life_days", "must be between 0 and 3650 days")
    if "mql_threshold" in data and not 1 <= int(data["mql_threshold"]) <= 100:
        errors.add("mql_threshold", "must be between 1 and 100")
    if "predictive_weight" in data and not 0 <= float(data["predictive_weight"]) <= 1:
        errors.add("predictive_weight", "must be between 0 and 1")
    errors.raise_if_any()
    for key, value in data.items():
        setattr(row, key, value)
    changed(session)
    return row


@dataclass(frozen=True)
class Score:
    """A lead's new score, for the caller to write on the lead. ``crossed`` is ``up`` or
    ``down`` when the score went over or back under ``threshold`` (the MQL threshold)."""

    score: int
    fit_score: int
    engagement_score: int
    predicted_probability: float | None
    reasons: list[dict[str, Any]]
    scored_at: datetime
    threshold: int
    crossed: str | None = None


@dataclass(frozen=True)
class Assessment:
    """What a lead's score is made of, read from the database: the fit rules it meets, its
    decayed engagement and the model's probability, each with its reasons."""

    fit: tuple[int, list[rules.Reason]]
    engagement: tuple[int, list[rules.Reason]]
    prediction: tuple[float | None, list[dict[str, Any]]]


def assess(session: Session, leads: Sequence[LeadFacts], *, now: datetime) -> dict[uuid.UUID, Assessment]:
    """Read what the scores of ``leads`` are made of, in three statements whatever their
    number; nothing is written. The leads' rows must be in the database as they are now."""
    from pipewise.scoring import predictive

    cfg = current(session)
    lead_ids = [lead.id for lead in leads]
    fit = rules.fit_scores(session, lead_ids, cfg.fit_rules, key=cfg.rules_key)
    engagement = rules.engagement_scores(session, lead_ids, cfg.engagement_points, cfg.half_life_days, now)
    predictions = predictive.predict_leads(session, list(leads), cfg.model_id)
    return {
        lead.id: Assessment(fit.get(lead.id, (0, [])), engagement.get(lead.id, (0, [])), predictions.get(lead.id, (None, [])))
        for lead in leads
    }


def score(
    session: Session, leads: Sequence[LeadFacts], *, cause: str, now: datetime | None = None,
    assessed: dict[uuid.UUID, Assessment] | None = None,
) -> dict[uuid.UUID, Score]:
    """Compute the scores of ``leads`` (from ``assessed``, read by ``assess`` at ``now``, or
    read now); write history where a score moved and announce threshold crossings. The
    leads themselves are the caller's to change."""
    if not leads:
        return {}
    now = now or utcnow()
    cfg = current(session)
    if assessed is None or any(lead.id not in assessed for lead in leads):
        session.flush()
        assessed = assess(session, leads, now=now)
    scores = {}
    for lead in leads:
        assessment = assessed[lead.id]
        fit_points, fit_reasons = assessment.fit
        engagement_points, engagement_reasons = assessment.engagement
        probability, model_reasons = assessment.prediction
        new = rules.combine(fit_points, engagement_points, probability, cfg.predictive_weight)
        reasons = sorted(fit_reasons + engagement_reasons, key=lambda r: -abs(r.points))[:5]
        result = Score(
            score=new, fit_score=fit_points, engagement_score=engagement_points, predicted_probability=probability,
            reasons=[r.as_dict() for r in reasons] + model_reasons, scored_at=now, threshold=cfg.mql_threshold,
            crossed=_crossing(lead.score, new, cfg.mql_threshold),
        )
        if (lead.score, lead.fit_score, lead.engagement_score, lead.predicted_probability) != (
            new, fit_points, engagement_points, probability
        ):
            insert_later(session, ScoreHistory, {
                "lead_id": lead.id, "at": now, "score": new, "fit_score": fit_points,
                "engagement_score": engagement_points, "predicted_probability": probability, "cause": cause[:120],
            }, ignore_conflicts=False)
        if result.crossed:
            bus.record(
                session,
                LeadScoreCrossed(record_id=lead.id, score=new, threshold=cfg.mql_threshold, direction=result.crossed),
            )
        scores[lead.id] = result
    return scores


def _crossing(old: int, new: int, threshold: int) -> str | None:
    if (old < threshold) == (new < threshold):
        return None
    return "up" if new >= threshold else "down"


def add_engagement(
    session: Session,
    lead_id: uuid.UUID,
    *,
    kind: str,
    occurred_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> EngagementEvent:
    """Keep something the lead did; the caller re-scores the lead (``engagement_cause``
    names the change) and the daily decay timer is set."""
    if kind not in current(session).engagement_points and kind not in rules.ENGAGEMENT_KINDS:
        raise ValidationFailed.on("kind", f"must be one of {', '.join(rules.ENGAGEMENT_KINDS)}")
    when = occurred_at or utcnow()
    if when > utcnow() + timedelta(minutes=5):
        raise ValidationFailed.on("occurred_at", "cannot be in the future")
    event = EngagementEvent(lead_id=lead_id, kind=kind, occurred_at=when, detail=detail or {})
    session.add(event)
    schedule_decay(session)
    return event


def engagement_cause(kind: str) -> str:
    return rules.ENGAGEMENT_KINDS.get(kind, kind)


def history(session: Session, lead_id: uuid.UUID, *, limit: int = 100) -> list[ScoreHistory]:
    return list(
        session.scalars(
            select(ScoreHistory).where(ScoreHistory.lead_id == lead_id).order_by(ScoreHistory.at.desc(), ScoreHistory.id.desc()).limit(limit)
        )
    )


_decay_scheduled: set[str] = set()


def schedule_decay(session: Session, *, after: datetime | None = None) -> None:
    """A daily timer that re-scores engaged leads so that fading engagement shows. The
    timer is idempotent by its key; the set only spares asking the database again."""
    run_at = (after or utcnow()).replace(hour=3, minute=0, second=0, microsecond=0) + timedelta(days=1)
    key = f"{DECAY_ACTION}:{run_at.date().isoformat()}"
    marker = f"{session.get_bind().url}:{key}"
    if after is None and marker in _decay_scheduled:
        return
    bus.schedule(session, key=key, kind=DECAY_ACTION, run_at=run_at)
    work = unit_of_work(session)
    scoring = work.state(_ScoringWork)
    if not scoring.decay_markers:
        work.after_commit(lambda: _decay_scheduled.update(scoring.decay_markers))
    scoring.decay_markers.add(marker)


@dataclass
class _ScoringWork:
    """The decay timers a transaction scheduled (remembered once it commits)."""

    decay_markers: set[str] = field(default_factory=set)
