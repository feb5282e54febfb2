"""Webhook endpoints (admins): subscribe a URL to events, rotate its secret, send a test
ping, read the delivery log and replay messages with their original ``webhook-id``.
Deliveries follow the Standard Webhooks specification (docs/integrations.md)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.integrations.webhooks import schemas, service
from pipewise.records.bounds import INT64

router = api_router(prefix="/webhooks", tags=["webhooks"])
ItemPath = "/{endpoint_id}"


class MessageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "waiting", "delivered", "failed"] | None = None
    event_type: str | None = Field(None, max_length=80)
    since: datetime | None = None
    until: datetime | None = None
    before_id: uuid.UUID | None = Field(None, description="the last id of the previous page")
    limit: int = Field(50, ge=1, le=service.PAGE_LIMIT)


class AttemptQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["delivered", "failed", "refused", "gone"] | None = None
    message_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = Field(None, ge=1, le=INT64[1], description="the last id of the previous page")
    limit: int = Field(50, ge=1, le=service.PAGE_LIMIT)


class Queued(BaseModel):
    message_id: uuid.UUID
    webhook_id: str


@router.get("", response_model=list[schemas.WebhookEndpoint], summary="Every webhook endpoint (admins)")
def list_endpoints(session: DbSession, actor: CurrentActor) -> Any:
    return service.list_endpoints(session, actor=actor)


@router.post("", response_model=schemas.WebhookEndpointWithSecret, status_code=201,
             summary="Subscribe a URL to events; the answer holds its secret, shown this once (admins)")
def create_endpoint(body: schemas.WebhookEndpointCreate, session: DbSession, actor: CurrentActor, response: Response) -> Any:
    endpoint, secret = service.create(session, body.model_dump(), actor=actor)
    response.headers["Cache-Control"] = "no-store"
    return schemas.WebhookEndpointWithSecret(**schemas.WebhookEndpoint.model_validate(endpoint).model_dump(), secret=secret)


@router.get(ItemPath, response_model=schemas.WebhookEndpoint)
def read_endpoint(endpoint_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return service.get_endpoint(session, endpoint_id, actor=actor)


@router.patch(ItemPath, response_model=schemas.WebhookEndpoint, summary="Change an endpoint; enabling it clears its failure record")
def update_endpoint(endpoint_id: uuid.UUID, body: schemas.WebhookEndpointUpdate, session: DbSession, actor: CurrentActor) -> Any:
    return service.update(session, endpoint_id, body.model_dump(exclude_unset=True), actor=actor)


@router.delete(ItemPath, status_code=204, summary="Delete an endpoint and its delivery log")
def delete_endpoint(endpoint_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Response:
    service.delete(session, endpoint_id, actor=actor)
    return Response(status_code=204)


@router.post(ItemPath + "/rotate-secret", response_model=schemas.WebhookSecret,
             summary="A new secret; the old one signs too for 24 hours (the new one is shown this once)")
def rotate_secret(endpoint_id: uuid.UUID, session: DbSession, actor: CurrentActor, response: Response) -> Any:
    secret, until = service.rotate_secret(session, endpoint_id, actor=actor)
    response.headers["Cache-Control"] = "no-store"
    return schemas.WebhookSecret(secret=secret, previous_secret_until=until)


def _queued(message_id: uuid.UUID) -> Queued:
    return Queued(message_id=message_id, webhook_id=f"msg_{message_id.hex}")


@router.post(ItemPath + "/ping", response_model=Queued, status_code=202,
             summary="Queue a `webhook.ping` delivery; its attempts show in the log")
def ping(endpoint_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _queued(service.ping(session, endpoint_id, actor=actor))


@router.get(ItemPath + "/messages", response_model=list[schemas.WebhookMessage], summary="Messages, newest first")
def list_messages(endpoint_id: uuid.UUID, session: DbSession, actor: CurrentActor,
                  query: Annotated[MessageQuery, Query()]) -> Any:
    filters = service.MessageFilter(**query.model_dump())
    return service.messages(session, endpoint_id, filters, actor=actor)


@router.get(ItemPath + "/messages/{message_id}", response_model=schemas.WebhookMessageDetail,
            summary="A message, its body and every attempt made to deliver it")
def read_message(endpoint_id: uuid.UUID, message_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    found = service.message(session, endpoint_id, message_id, actor=actor)
    made = service.attempts(session, endpoint_id, service.AttemptFilter(message_id=message_id, limit=service.PAGE_LIMIT),
                            actor=actor)
    return schemas.WebhookMessageDetail(**schemas.WebhookMessage.model_validate(found).model_dump(), body=found.body,
                                        attempts_made=[schemas.WebhookAttempt.model_validate(a) for a in made])


@router.post(ItemPath + "/messages/{message_id}/replay", response_model=Queued, status_code=202,
             summary="Send a message again from the start of the retry schedule, with the same webhook-id")
def replay_message(endpoint_id: uuid.UUID, message_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _queued(service.replay_message(session, endpoint_id, message_id, actor=actor).id)


@router.post(ItemPath + "/replay", response_model=schemas.Replayed, status_code=202,
             summary="Replay every message (or every failed one) created in a time range")
def replay_range(endpoint_id: uuid.UUID, body: schemas.ReplayRange, session: DbSession, actor: CurrentActor) -> Any:
    count = service.replay_range(session, endpoint_id, since=body.since, until=body.until, only_failed=body.only_failed,
                                 actor=actor)
    return schemas.Replayed(replayed=count)


@router.get(ItemPath + "/attempts", response_model=list[schemas.WebhookAttempt],
            summary="Every request made to the endpoint, newest first: headers, status, answer, time")
def list_attempts(endpoint_id: uuid.UUID, session: DbSession, actor: CurrentActor,
                  query: Annotated[AttemptQuery, Query()]) -> Any:
    return service.attempts(session, endpoint_id, service.AttemptFilter(**query.model_dump()), actor=actor)
