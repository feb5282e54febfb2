"""Deal health and each rep's next best actions over HTTP (read-only)."""

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.deals import health as deal_health
from pipewise.deals.service import deal_service
from pipewise.next_actions import service as next_actions
from pipewise.schemas import OutputModel

router = api_router(tags=["deals"])


class HealthReasonOut(OutputModel):
    code: Literal["no_activity", "close_date_passed", "well_past_usual", "slipping", "no_next_step"]
    text: str
    severity: Literal["risk", "watch"]


class DealHealthOut(OutputModel):
    deal_id: uuid.UUID
    status: Literal["healthy", "watch", "at_risk", "closed"] = Field(description="closed: a won or lost deal has no health")
    label: str
    stale: bool = Field(description="no activity for longer than the stage's usual time")
    risk: float = Field(description="0–1: how much the findings put the deal's forecast value at risk")
    days_in_stage: float | None = None
    days_quiet: float | None = Field(None, description="days since the last logged work on the deal")
    usual_days: float | None = Field(None, description="the quiet time after which the deal counts as stale")
    reasons: list[HealthReasonOut] = []


class NextActionOut(OutputModel):
    kind: Literal["deal", "lead"]
    id: uuid.UUID
    name: str
    action: str
    reasons: list[str]
    stake: Decimal = Field(description="the forecast value an action now can keep or win")
    url: str


class NextActionsOut(OutputModel):
    user_id: uuid.UUID
    user_name: str
    actions: list[NextActionOut]


@router.get("/deals/{deal_id}/health", response_model=DealHealthOut, summary="Is this deal stale or at risk, and why")
def read_deal_health(deal_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    deal = deal_service.get(session, deal_id, actor=actor)
    found = deal_health.assess(session, [deal]).get(deal.id)
    if found is None:
        return DealHealthOut(deal_id=deal.id, status="closed", label="Closed", stale=False, risk=0.0)
    return found.as_dict()


@router.get("/next-actions", response_model=NextActionsOut, tags=["next actions"],
            summary="Your open deals and leads where acting now changes the forecast most, with the reasons")
def list_next_actions(
    session: DbSession, actor: CurrentActor,
    user_id: Annotated[uuid.UUID | None, Query(description="whose list (managers: anyone in their teams)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Any:
    user = next_actions.whose(session, actor, user_id)
    actions = next_actions.for_user(session, user, actor=actor, limit=limit)
    return {"user_id": user.id, "user_name": user.name, "actions": [a.as_dict() for a in actions]}
