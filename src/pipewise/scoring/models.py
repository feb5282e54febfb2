import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Timestamps, UUIDPrimaryKey, utcnow


class ScoringConfig(Timestamps, Base):
    """The rule-scoring set-up; one row (id 1)."""

    __tablename__ = "scoring_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    # [{"field": "industry", "op": "in", "value": [...], "points": 15, "label": "..."}]
    fit_rules: Mapped[list[Any]] = mapped_column(default=list)
    # engagement kind -> points per event at the moment it happens
    engagement_points: Mapped[dict[str, Any]] = mapped_column(default=dict)
    half_life_days: Mapped[float] = mapped_column(default=14.0)
    mql_threshold: Mapped[int] = mapped_column(default=60)
    # How much the model's probability (0..100) counts in the total, 0..1.
    predictive_weight: Mapped[float] = mapped_column(default=0.0)


class EngagementEvent(Base):
    """Something a lead did: opened or clicked an e-mail, replied, filled a form, visited a page, met."""

    __tablename__ = "engagement_event"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_engagement_event_lead", "lead_id", "occurred_at"),)


class ScoreHistory(Base):
    __tablename__ = "score_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int]
    fit_score: Mapped[int]
    engagement_score: Mapped[int]
    predicted_probability: Mapped[float | None]
    cause: Mapped[str] = mapped_column(String(120))

    __table_args__ = (Index("ix_score_history_lead", "lead_id", "at"),)


class ScoringModel(UUIDPrimaryKey, Base):
    """A trained predictive model: the fitted estimator, what it was trained on, how it did."""

    __tablename__ = "scoring_model"

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    is_active: Mapped[bool] = mapped_column(default=False)
    algorithm: Mapped[str] = mapped_column(String(120))
    features: Mapped[list[Any]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trained_on: Mapped[int] = mapped_column(default=0)
    # joblib dump of the fitted model; only ever written by `scoring train` on this database.
    artifact: Mapped[bytes] = mapped_column(LargeBinary)


class ScoringTraining(UUIDPrimaryKey, Base):
    """A request to train the predictive model, run by the worker: queued, then done (with
    the model it made) or failed (with the reason)."""

    __tablename__ = "scoring_training"

    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | done | failed
    model_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("scoring_model.id", ondelete="SET NULL"))
    rescored: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
