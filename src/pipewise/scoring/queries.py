"""Reads the scoring pages and API show: trained models and the latest training."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.scoring.models import ScoringModel, ScoringTraining


def recent_models(session: Session, *, limit: int) -> list[ScoringModel]:
    """Trained models, newest first."""
    return list(session.scalars(select(ScoringModel).order_by(ScoringModel.created_at.desc()).limit(limit)))


def latest_training(session: Session) -> ScoringTraining | None:
    return session.scalar(select(ScoringTraining).order_by(ScoringTraining.requested_at.desc()).limit(1))
