"""Scoring leads: fit and decayed engagement rules, the predictive model when one is
active, score history, and the MQL threshold that moves leads on."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.db.base import utcnow
from pipewise.db.session import cached_lookup
from pipewise.db.unit_of_work import unit_of_work
from pipewise.errors import ErrorCollector, ValidationFailed
from pipewise.events import bus
from pipewise.leads.events import LeadScoreCrossed
from pipewise.leads.lifecycle import move_stage, rank
from pipewise.leads.models import Lead
from pipewise.scoring import rules
from pipewise.scoring.models import EngagementEvent, ScoreHistory, ScoringConfig

CONFIG_ID = 1
DECAY_ACTION = "scoring.decay"


def config(session: Session) -> ScoringConfig:
    # Held for the transaction: the session keeps loaded rows only while someone refers to
    # them, and a capture asks for the configuration several times.
    return cached_lookup(session, ScoringConfig, CONFIG_ID, lambda: _load_config(session))


def _load_config(session: Session) -> ScoringConfig:
    row = session.get(ScoringConfig, CONFIG_ID)
    if row is None:
        row = ScoringConfig(
            id=CONFIG_ID,
            fit_rules=rules.DEFAULT_FIT_RULES,
            engagement_points=dict(rules.DEFAULT_ENGAGEMENT_POINTS),
            half_life_days=14.0,
            mql_threshold=60,
            predictive_weight=0.0,
        )
        session.add(row)
        session.flush()
    return row


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
    return row


def score_leads(
    session: Session, lead_ids: list[uuid.UUID], *, cause: str, actor: Actor = SYSTEM_ACTOR, now: datetime | None = None
) -> dict[uuid.UUID, int]:
    """Recompute the scores of ``lead_ids``; write history where a score moved and announce
    threshold crossings. Returns the new scores."""
    if not lead_ids:
        return {}
    from pipewise.scoring import predictive

    now = now or utcnow()
    cfg = config(session)
    session.flush()
    fit = rules.fit_scores(session, lead_ids, cfg.fit_rules)
    engagement = rules.engagement_scores(session, lead_ids, cfg.engagement_points, cfg.half_life_days, now)
    leads = _loaded_leads(session, lead_ids)
    predictions = predictive.predict_leads(session, list(leads.values()))
    scores = {}
    for lead_id, lead in leads.items():
        fit_points, fit_reasons = fit.get(lead_id, (0, []))
        engagement_points, engagement_reasons = engagement.get(lead_id, (0, []))
        probability, model_reasons = predictions.get(lead_id, (None, []))
        score = rules.combine(fit_points, engagement_points, probability, cfg.predictive_weight)
        reasons = sorted(fit_reasons + engagement_reasons, key=lambda r: -abs(r.points))[:5]
        old = lead.score
        changed = (old, lead.fit_score, lead.engagement_score, lead.predicted_probability) != (
            score, fit_points, engagement_points, probability
        )
        lead.fit_score, lead.engagement_score, lead.score = fit_points, engagement_points, score
        lead.predicted_probability = probability
        lead.score_reasons = [r.as_dict() for r in reasons] + model_reasons
        lead.scored_at = now
        scores[lead_id] = score
        if changed:
            session.add(
                ScoreHistory(
                    lead_id=lead_id, at=now, score=score, fit_score=fit_points,
                    engagement_score=engagement_points, predicted_probability=probability, cause=cause[:120],
                )
            )
        _threshold(session, lead, old, score, cfg.mql_threshold, actor=actor)
    return scores


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


def _threshold(session: Session, lead: Lead, old: int, new: int, threshold: int, *, actor: Actor) -> None:
    if (old < threshold) == (new < threshold):
        return
    direction = "up" if new >= threshold else "down"
    bus.record(
        session,
        LeadScoreCrossed(
            record_id=lead.id, actor_id=None, data={"score": new, "threshold": threshold, "direction": direction}
        ),
    )
    if direction == "up" and rank(lead.lifecycle_stage) in (0, 1):
        move_stage(session, lead, "mql", actor=actor, cause=f"score {new} reached the MQL threshold {threshold}")


def record_engagement(
    session: Session,
    lead_id: uuid.UUID,
    *,
    kind: str,
    occurred_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
    rescore: bool = True,
) -> EngagementEvent:
    if kind not in config(session).engagement_points and kind not in rules.ENGAGEMENT_KINDS:
        raise ValidationFailed.on("kind", f"must be one of {', '.join(rules.ENGAGEMENT_KINDS)}")
    when = occurred_at or utcnow()
    if when > utcnow() + timedelta(minutes=5):
        raise ValidationFailed.on("occurred_at", "cannot be in the future")
    event = EngagementEvent(lead_id=lead_id, kind=kind, occurred_at=when, detail=detail or {})
    session.add(event)
    if rescore:
        score_leads(session, [lead_id], cause=rules.ENGAGEMENT_KINDS.get(kind, kind))
    schedule_decay(session)
    return event


def rescore_open(session: Session, *, cause: str = "re-scored") -> int:
    """Re-score every lead still being worked; returns how many."""
    ids = list(session.scalars(select(Lead.id).where(Lead.status.not_in(("converted", "disqualified")))))
    for start in range(0, len(ids), 500):
        score_leads(session, ids[start : start + 500], cause=cause)
    return len(ids)


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
    """Scoring's state in a transaction: whether leads are scored at the end instead, and
    the decay timers it scheduled (remembered once it commits)."""

    deferred: bool = False
    decay_markers: set[str] = field(default_factory=set)


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Inside this block, creating or changing a lead does not score it; the caller scores
    once at the end (capture adds the form fill first, then scores)."""
    work = unit_of_work(session).state(_ScoringWork)
    work.deferred = True
    try:
        yield
    finally:
        work.deferred = False


def scoring_deferred(session: Session) -> bool:
    """Whether the caller scores at the end (inside ``deferred``)."""
    return unit_of_work(session).state(_ScoringWork).deferred


def run_decay(session: Session, _action: Any) -> None:
    engaged = list(session.scalars(select(Lead.id).where(Lead.engagement_score > 0, Lead.status != "converted")))
    for start in range(0, len(engaged), 500):
        score_leads(session, engaged[start : start + 500], cause="engagement fading")
    if engaged:
        schedule_decay(session)
