"""Record actions beyond CRUD: move a deal, link contacts, convert a lead, finish a task,
the caller's own profile and tokens, and a record's timeline."""

import uuid
from typing import Any, Literal

from fastapi import Request

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.crud import IfMatch, body_bytes, expected_versions, run_idempotent
from pipewise.crm import schemas as crm
from pipewise.crm.service import task_service
from pipewise.deals import schemas as deals
from pipewise.deals.service import deal_service
from pipewise.leads import schemas as leads
from pipewise.leads.service import lead_service
from pipewise.people import schemas as auth_schemas
from pipewise.people.service import token_service, user_service
from pipewise.records.service import RecordService
from pipewise.records.timeline import TimelineEntry, timeline

router = api_router()


@router.post("/deals/{deal_id}/move", response_model=deals.Deal, tags=["deals"], summary="Move a deal to a stage")
def move_deal(
    deal_id: uuid.UUID, body: deals.StageMove, request: Request, session: DbSession, actor: CurrentActor,
    if_match: IfMatch = None,
) -> Any:
    def produce() -> Any:
        deal = deal_service.move_to_stage(
            session, deal_id, body.stage_id, actor=actor, expected_version=expected_versions(if_match)
        )
        session.flush()
        return deals.Deal.model_validate(deal).model_dump(mode="json")

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


@router.get("/deals/{deal_id}/contacts", response_model=list[deals.DealContactOut], tags=["deals"])
def deal_contacts(deal_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    deal_service.get(session, deal_id, actor=actor)
    return [
        deals.DealContactOut(contact_id=c.id, name=c.full_name, email=c.email, role=role)
        for c, role in deal_service.contacts(session, deal_id)
    ]


@router.post("/deals/{deal_id}/contacts", status_code=204, response_model=None, tags=["deals"], summary="Put a contact on a deal")
def add_deal_contact(
    deal_id: uuid.UUID, body: deals.DealContactLink, request: Request, session: DbSession, actor: CurrentActor
) -> Any:
    def produce() -> None:
        deal_service.add_contact(session, deal_id, body.contact_id, role=body.role, actor=actor)

    return run_idempotent(request, session, actor, body_bytes(body), 204, produce)


@router.delete("/deals/{deal_id}/contacts/{contact_id}", status_code=204, response_model=None, tags=["deals"])
def remove_deal_contact(
    deal_id: uuid.UUID, contact_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor
) -> Any:
    def produce() -> None:
        deal_service.remove_contact(session, deal_id, contact_id, actor=actor)

    return run_idempotent(request, session, actor, b"", 204, produce)


@router.post("/leads/{lead_id}/convert", response_model=leads.LeadConversion, tags=["leads"])
def convert_lead(lead_id: uuid.UUID, body: leads.LeadConvert, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        result = lead_service.convert(session, lead_id, actor=actor, **body.model_dump())
        session.flush()
        return {
            "lead_id": str(lead_id),
            "account_id": str(result["account"].id),
            "contact_id": str(result["contact"].id),
            "deal_id": str(result["deal"].id) if result["deal"] else None,
        }

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


@router.post("/tasks/{task_id}/complete", response_model=crm.Task, tags=["tasks"])
def complete_task(task_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        task = task_service.complete(session, task_id, actor=actor)
        session.flush()
        return crm.Task.model_validate(task).model_dump(mode="json")

    return run_idempotent(request, session, actor, b"", 200, produce)


TIMELINE_TYPES = {"accounts": "account", "contacts": "contact", "leads": "lead", "deals": "deal"}


@router.get("/{plural}/{record_id}/timeline", response_model=list[TimelineEntry], tags=["timeline"])
def record_timeline(
    plural: Literal["accounts", "contacts", "leads", "deals"], record_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> Any:
    """Activities, tasks, field changes and automation decisions on one record, newest first."""
    record_type = TIMELINE_TYPES[plural]
    RecordService(record_type).get(session, record_id, actor=actor)
    return timeline(session, record_type, record_id)


@router.get("/me", response_model=auth_schemas.User, tags=["users"])
def me(session: DbSession, actor: CurrentActor) -> Any:
    return user_service.get(session, actor.id, actor=actor)


@router.post("/me/tokens", status_code=201, response_model=auth_schemas.TokenCreated, tags=["users"])
def create_token(body: auth_schemas.TokenCreate, session: DbSession, actor: CurrentActor) -> Any:
    """The token is shown in this response only; Pipewise keeps just its hash (so this
    write deliberately ignores Idempotency-Key: replaying it would mean storing the secret)."""
    user = user_service.get(session, actor.id, actor=actor)
    token, secret = token_service.create(session, user=user, name=body.name)
    return {"id": token.id, "name": token.name, "token": secret, "created_at": token.created_at}


@router.delete("/me/tokens/{token_id}", status_code=204, tags=["users"])
def revoke_token(token_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> None:
    token_service.revoke(session, token_id=token_id, user=user_service.get(session, actor.id, actor=actor))
