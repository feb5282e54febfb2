"""Scores over HTTP: a lead's score with its reasons and history, engagement sent in,
the scoring set-up, and the predictive model (train, list with metrics)."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.errors import PermissionDenied
from pipewise.leads import scores
from pipewise.leads.models import Lead
from pipewise.leads.service import lead_service
from pipewise.schemas import InputModel, OutputModel
from pipewise.scoring import predictive
from pipewise.scoring import queries as scoring_queries
from pipewise.scoring import service as scoring
from pipewise.scoring import training

router = api_router(tags=["scoring"])


class EngagementIn(InputModel):
    kind: Annotated[str, Field(max_length=30)]
    occurred_at: datetime | None = None
    detail: dict[str, Any] = {}


class ScoreHistoryOut(OutputModel):
    at: datetime
    score: int
    fit_score: int
    engagement_score: int
    predicted_probability: float | None
    cause: str


class ScoreOut(OutputModel):
    lead_id: uuid.UUID
    score: int
    fit_score: int
    engagement_score: int
    predicted_probability: float | None
    reasons: list[dict[str, Any]]
    history: list[ScoreHistoryOut]


class ConfigIn(InputModel):
    fit_rules: list[dict[str, Any]] | None = None
    engagement_points: dict[str, int] | None = None
    half_life_days: float | None = None
    mql_threshold: int | None = None
    predictive_weight: float | None = None


class ConfigOut(OutputModel):
    fit_rules: list[dict[str, Any]]
    engagement_points: dict[str, int]
    half_life_days: float
    mql_threshold: int
    predictive_weight: float


class ModelOut(OutputModel):
    id: uuid.UUID
    created_at: datetime
    is_active: bool
    algorithm: str
    features: list[str]
    metrics: dict[str, Any]
    trained_on: int


def _score(session: Any, lead: Lead) -> dict[str, Any]:
    return {
        "lead_id": lead.id, "score": lead.score, "fit_score": lead.fit_score, "engagement_score": lead.engagement_score,
        "predicted_probability": lead.predicted_probability, "reasons": lead.score_reasons,
        "history": scoring.history(session, lead.id, limit=50),
    }


@router.get("/leads/{lead_id}/score", response_model=ScoreOut, summary="A lead's score, reasons and history")
def lead_score(lead_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _score(session, lead_service.get(session, lead_id, actor=actor))


@router.post("/leads/{lead_id}/engagement", response_model=ScoreOut, status_code=201,
             summary="Record an e-mail open or click, a reply, a form fill, a page visit or a meeting")
def record_engagement(lead_id: uuid.UUID, body: EngagementIn, session: DbSession, actor: CurrentActor) -> Any:
    lead = lead_service.get(session, lead_id, actor=actor)
    scores.record_engagement(session, lead.id, kind=body.kind, occurred_at=body.occurred_at, detail=body.detail)
    return _score(session, lead)


@router.get("/scoring/config", response_model=ConfigOut)
def read_config(session: DbSession, actor: CurrentActor) -> Any:
    return scoring.config(session)


def _manager(actor: Any) -> None:
    if not actor.is_manager:
        raise PermissionDenied("only managers and admins may change scoring")


@router.patch("/scoring/config", response_model=ConfigOut, summary="Change fit rules, engagement points, half-life, MQL threshold")
def update_config(body: ConfigIn, session: DbSession, actor: CurrentActor) -> Any:
    _manager(actor)
    return scoring.update_config(session, body.model_dump(exclude_none=True))


@router.post("/scoring/rescore", summary="Re-score every open lead")
def rescore(session: DbSession, actor: CurrentActor) -> dict[str, int]:
    _manager(actor)
    return {"rescored": scores.rescore_open(session)}


@router.get("/scoring/models", response_model=list[ModelOut], summary="Trained models and their evaluation")
def list_models(session: DbSession, actor: CurrentActor) -> Any:
    return scoring_queries.recent_models(session, limit=20)


class TrainingOut(OutputModel):
    id: uuid.UUID
    status: str
    requested_at: datetime
    finished_at: datetime | None
    model_id: uuid.UUID | None
    rescored: int | None
    error: str | None


@router.post("/scoring/models", response_model=TrainingOut, status_code=202,
             summary="Train a model on this database's closed leads and make it active (in the background)")
def train_model(session: DbSession, actor: CurrentActor) -> Any:
    """The worker trains; follow the `Location` (`GET /api/v1/scoring/trainings/{id}`) until
    its status is `done` (with the new `model_id`) or `failed` (with the reason). When the
    closed leads give nothing to learn from (too few, or no field that varies) the answer
    is 422 at once, saying so."""
    _manager(actor)
    predictive.trainable(session, scores.closed_leads(session))
    queued = TrainingOut.model_validate(training.request_training(session, actor=actor))
    return JSONResponse(queued.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/api/v1/scoring/trainings/{queued.id}"})


@router.get("/scoring/trainings/{training_id}", response_model=TrainingOut, summary="A model training's status")
def read_training(training_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    _manager(actor)
    return training.get_training(session, training_id)
