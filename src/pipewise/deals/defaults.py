"""The default sales pipeline a fresh installation starts with."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import pipeline_service, stage_service


@dataclass(frozen=True)
class StageTemplate:
    name: str
    probability: int
    kind: str = "open"
    required_fields: tuple[str, ...] = ()


DEFAULT_PIPELINE_NAME = "Sales"
DEFAULT_STAGES: tuple[StageTemplate, ...] = (
    StageTemplate("Qualification", 10),
    StageTemplate("Discovery", 20),
    StageTemplate("Demo", 40),
    StageTemplate("Proposal", 60, required_fields=("amount",)),
    StageTemplate("Negotiation", 80, required_fields=("amount", "close_date")),
    StageTemplate("Closed won", 100, "won", ("amount",)),
    StageTemplate("Closed lost", 0, "lost", ("lost_reason",)),
)


def create_pipeline(
    session: Session,
    *,
    name: str = DEFAULT_PIPELINE_NAME,
    stages: tuple[StageTemplate, ...] = DEFAULT_STAGES,
    is_default: bool = True,
    actor: Actor = SYSTEM_ACTOR,
) -> tuple[Pipeline, list[Stage]]:
    pipeline = pipeline_service.create(session, data={"name": name, "is_default": is_default}, actor=actor)
    session.flush()
    created = []
    for position, template in enumerate(stages, start=1):
        created.append(
            stage_service.create(
                session,
                data={
                    "pipeline_id": pipeline.id,
                    "name": template.name,
                    "position": position,
                    "probability": template.probability,
                    "kind": template.kind,
                    "required_fields": list(template.required_fields),
                },
                actor=actor,
            )
        )
    session.flush()
    return pipeline, created


def ensure_default_pipeline(session: Session, *, actor: Actor = SYSTEM_ACTOR) -> tuple[Pipeline, list[Stage], bool]:
    """Return the default pipeline and its stages, creating the standard one when no
    pipeline exists yet; the flag says whether it was created now."""
    existing = pipeline_service.default(session)
    if existing is not None:
        return existing, pipeline_service.stages(session, existing.id), False
    pipeline, stages = create_pipeline(session, actor=actor)
    return pipeline, stages, True
