"""Routing over HTTP: assignment rules (ordered), the SLA policy, assigning a lead, its
assignments and its speed to lead."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.assignment import service as routing
from pipewise.errors import ValidationFailed
from pipewise.leads import routing as lead_routing
from pipewise.leads.capture import speed_to_lead
from pipewise.leads.service import lead_service
from pipewise.schemas import InputModel, OutputModel, partial

router = api_router(tags=["routing"])


class RuleIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    position: int | None = None
    conditions: dict[str, Any] = {}
    target_type: str
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    queue: Annotated[str, Field(max_length=60)] | None = None
    prefer_account_owner: bool = True
    is_active: bool = True


RuleUpdate = partial(RuleIn, "RuleUpdate")


class RuleOut(OutputModel):
    id: uuid.UUID
    name: str
    position: int
    conditions: dict[str, Any]
    target_type: str
    user_id: uuid.UUID | None
    team_id: uuid.UUID | None
    queue: str | None
    prefer_account_owner: bool
    is_active: bool


class OrderIn(InputModel):
    rule_ids: list[uuid.UUID]


class PolicyIn(InputModel):
    sla_minutes: int | None = None
    work_start: str | None = None
    work_end: str | None = None
    workdays: list[int] | None = None
    timezone: str | None = None
    reassign_on_breach: bool | None = None


class PolicyOut(OutputModel):
    sla_minutes: int | None
    work_start: str
    work_end: str
    workdays: list[int]
    timezone: str
    reassign_on_breach: bool


class AssignIn(InputModel):
    owner_id: uuid.UUID | None = None


class AssignmentOut(OutputModel):
    owner_id: uuid.UUID | None
    team_id: uuid.UUID | None
    queue: str | None
    rule_id: uuid.UUID | None
    rule_name: str
    reason: str
    assigned_at: datetime
    sla_due_at: datetime | None
    first_touch_at: datetime | None
    breached_at: datetime | None
    status: str


class SpeedOut(OutputModel):
    received_at: datetime | None
    assigned_at: datetime | None
    notified_at: datetime | None
    speed_to_lead_ms: int | None


@router.get("/routing/rules", response_model=list[RuleOut])
def list_rules(session: DbSession, actor: CurrentActor) -> Any:
    return routing.rules(session)


@router.post("/routing/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, session: DbSession, actor: CurrentActor) -> Any:
    return routing.create_rule(session, body.model_dump(), actor=actor)


@router.patch("/routing/rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: uuid.UUID, body: RuleUpdate, session: DbSession, actor: CurrentActor) -> Any:  # type: ignore[valid-type]
    return routing.update_rule(session, rule_id, body.model_dump(exclude_unset=True), actor=actor)


@router.delete("/routing/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> None:
    routing.delete_rule(session, rule_id, actor=actor)


@router.put("/routing/rules/order", response_model=list[RuleOut], summary="Put the rules in a new order")
def order_rules(body: OrderIn, session: DbSession, actor: CurrentActor) -> Any:
    return routing.reorder(session, body.rule_ids, actor=actor)


@router.get("/routing/policy", response_model=PolicyOut)
def read_policy(session: DbSession, actor: CurrentActor) -> Any:
    return routing.policy(session)


@router.patch("/routing/policy", response_model=PolicyOut, summary="Response-time SLA and working hours")
def update_policy(body: PolicyIn, session: DbSession, actor: CurrentActor) -> Any:
    return routing.update_policy(session, body.model_dump(exclude_unset=True), actor=actor)


@router.post("/leads/{lead_id}/assign", response_model=AssignmentOut,
             summary="Assign a lead: to the given owner, or by the routing rules")
def assign(lead_id: uuid.UUID, body: AssignIn, session: DbSession, actor: CurrentActor) -> Any:
    if body.owner_id is not None:
        return lead_routing.assign_by_hand(session, lead_id, body.owner_id, actor=actor)
    lead = lead_service.get(session, lead_id, actor=actor, write=True)
    result = lead_routing.assign(session, lead, actor=actor, cause=f"re-routed by {actor.name or 'a user'}")
    if result is None:
        raise ValidationFailed.on("lead", "no routing rule matches this lead")
    return result


@router.get("/leads/{lead_id}/assignments", response_model=list[AssignmentOut])
def assignments(lead_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    lead_service.get(session, lead_id, actor=actor)
    return routing.history(session, lead_id)


@router.get("/leads/{lead_id}/speed-to-lead", response_model=SpeedOut,
            summary="From form submission to assigned and owner notified")
def lead_speed(lead_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    lead_service.get(session, lead_id, actor=actor)
    submission = speed_to_lead(session, lead_id)
    if submission is None:
        return {"received_at": None, "assigned_at": None, "notified_at": None, "speed_to_lead_ms": None}
    return {"received_at": submission.received_at, "assigned_at": submission.assigned_at,
            "notified_at": submission.notified_at, "speed_to_lead_ms": submission.speed_to_lead_ms}
