"""Training the predictive model is work for the worker, not for a request: a request
queues a ``ScoringTraining`` and a scheduled action; the worker trains, makes the model
active, re-scores open leads and marks the training done — or failed, with the reason
(too few closed leads, say), leaving the active model as it was. The leads package runs
the worker's half: it has the leads to train on and to re-score."""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow, uuid7
from pipewise.errors import NotFound, ValidationFailed
from pipewise.events import bus
from pipewise.jobs import service as jobs
from pipewise.scoring import predictive
from pipewise.scoring.facts import LeadFacts
from pipewise.scoring.models import ScoringTraining

TRAIN_ACTION = "scoring.train"


def request_training(session: Session, *, actor: Actor, job_id: uuid.UUID | None = None) -> ScoringTraining:
    """Queue a training; ``job_id`` names the job (``pipewise.jobs``) that shows its progress."""
    training = ScoringTraining(id=uuid7(), requested_at=utcnow(), requested_by=actor.id if actor.id.int else None,
                               status="queued")
    session.add(training)
    session.flush()
    payload = {"training_id": str(training.id)} | ({"job_id": str(job_id)} if job_id else {})
    bus.schedule(session, key=f"{TRAIN_ACTION}:{training.id}", kind=TRAIN_ACTION, run_at=training.requested_at,
                 payload=payload)
    return training


def get_training(session: Session, training_id: uuid.UUID) -> ScoringTraining:
    training = session.get(ScoringTraining, training_id)
    if training is None:
        raise NotFound(f"no training with id {training_id}")
    return training


def run_training(
    session: Session,
    action: Any,
    *,
    closed_leads: Callable[[Session], list[LeadFacts]],
    rescore_open: Callable[[Session], int],
) -> None:
    """Train on ``closed_leads`` and re-score with ``rescore_open`` (which returns how many)."""
    training = session.get(ScoringTraining, uuid.UUID(action.payload["training_id"]))
    if training is None or training.status != "queued":
        return
    job_id = uuid.UUID(action.payload["job_id"]) if action.payload.get("job_id") else None
    try:
        with session.begin_nested():
            model = predictive.train(session, closed_leads(session))
            training.rescored = rescore_open(session)
        training.status, training.model_id = "done", model.id
        if job_id:
            jobs.record_outcome(session, job_id, step=f"Trained on {model.trained_on:,} closed leads; "
                                                      f"{training.rescored:,} open leads re-scored")
    except ValidationFailed as exc:
        training.status, training.error = "failed", exc.detail
        if job_id:
            jobs.record_outcome(session, job_id, error=exc.detail)
    training.finished_at = utcnow()
