"""Managing webhook endpoints and reading their delivery log: admins only, like the
company's other integration settings. Endpoints belong to the company, not to a person,
and every delivery carries whatever its events name (docs/integrations.md), which only an
admin may see in full. Every change, rotation, ping and replay is audited."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow
from pipewise.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pipewise.integrations.webhooks import delivery
from pipewise.integrations.webhooks.models import FAILED, PENDING, WebhookAttempt, WebhookEndpoint, WebhookMessage
from pipewise.integrations.webhooks.signing import new_secret

ROTATION_OVERLAP = timedelta(hours=24)
MAX_REPLAY = 10_000
PAGE_LIMIT = 500
TARGET = "webhook_endpoint"
_SHOWN = ("url", "description", "event_types", "enabled", "ordered")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only admins manage webhook endpoints")


def _audit(session: Session, endpoint: WebhookEndpoint, action: str, summary: str, actor: Actor, **details: Any) -> None:
    audit.log(session, f"{TARGET}.{action}", actor=actor, summary=f"{summary}: {endpoint.url}"[:300],
              target_type=TARGET, target_id=endpoint.id, details=details)


def list_endpoints(session: Session, *, actor: Actor) -> list[WebhookEndpoint]:
    require_admin(actor)
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))


def get_endpoint(session: Session, endpoint_id: uuid.UUID, *, actor: Actor) -> WebhookEndpoint:
    require_admin(actor)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    return endpoint


def create(session: Session, data: dict[str, Any], *, actor: Actor) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the one time the secret is handed out)."""
    require_admin(actor)
    secret = new_secret()
    endpoint = WebhookEndpoint(**data, secret=secret, created_by=actor.id if actor.id.int else None)
    session.add(endpoint)
    session.flush()
    _audit(session, endpoint, "created", "webhook endpoint created", actor, **{k: getattr(endpoint, k) for k in _SHOWN})
    return endpoint, secret


def update(session: Session, endpoint_id: uuid.UUID, data: dict[str, Any], *, actor: Actor) -> WebhookEndpoint:
    endpoint = get_endpoint(session, endpoint_id, actor=actor)
    changes = {k: [getattr(endpoint, k), v] for k, v in data.items() if v is not None and getattr(endpoint, k) != v}
    for key, (_old, new) in changes.items():
        setattr(endpoint, key, new)
    if changes.get("enabled", [None, False])[1]:
        endpoint.disabled_reason = endpoint.failing_since = None  # a fresh start
    if changes:
        endpoint.updated_at = utcnow()
        session.flush()
        _audit(session, endpoint, "updated", f"webhook endpoint updated ({', '.join(sorted(changes))})", actor,
               changes=changes)
    return endpoint


def delete(session: Session, endpoint_id: uuid.UUID, *, actor: Actor) -> None:
    endpoint = get_endpoint(session, endpoint_id, actor=actor)
    _audit(session, endpoint, "deleted", "webhook endpoint deleted", actor, **{k: getattr(endpoint, k) for k in _SHOWN})
    session.delete(endpoint)
    session.flush()


def rotate_secret(session: Session, endpoint_id: uuid.UUID, *, actor: Actor) -> tuple[str, datetime]:
    """A new secret; the old one keeps signing too for ``ROTATION_OVERLAP``."""
    endpoint = get_endpoint(session, endpoint_id, actor=actor)
    until = utcnow() + ROTATION_OVERLAP
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, until
    endpoint.secret = new_secret()
    endpoint.updated_at = utcnow()
    session.flush()
    _audit(session, endpoint, "rotated", "webhook secret rotated", actor, previous_secret_until=until.isoformat())
    return endpoint.secret, until


def ping(session: Session, endpoint_id: uuid.UUID, *, actor: Actor) -> uuid.UUID:
    """Queue a ``webhook.ping`` message (the worker sends it, disabled endpoint or not)."""
    endpoint = get_endpoint(session, endpoint_id, actor=actor)
    now = utcnow()
    data = {"endpoint_id": str(endpoint.id), "message": "A test delivery from Pipewise", "sent_by": actor.email or None}
    message_id = delivery.queue(session, endpoint_id=endpoint.id, event_name=delivery.PING_TYPE,
                                body=delivery.encode(delivery.PING_TYPE, now, data), at=now)
    _audit(session, endpoint, "pinged", "webhook test ping sent", actor, message_id=str(message_id))
    return message_id


# -- the delivery log ----------------------------------------------------------------


@dataclass(frozen=True)
class MessageFilter:
    status: str | None = None
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: uuid.UUID | None = None
    limit: int = 50


def messages(session: Session, endpoint_id: uuid.UUID, filters: MessageFilter, *, actor: Actor) -> list[WebhookMessage]:
    """The endpoint's messages, newest first (ids are time-ordered)."""
    get_endpoint(session, endpoint_id, actor=actor)
    query = select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint_id)
    if filters.status:
        query = query.where(WebhookMessage.status == filters.status)
    if filters.event_type:
        query = query.where(WebhookMessage.event_name == filters.event_type)
    if filters.since:
        query = query.where(WebhookMessage.created_at >= filters.since)
    if filters.until:
        query = query.where(WebhookMessage.created_at < filters.until)
    if filters.before_id:
        query = query.where(WebhookMessage.id < filters.before_id)
    return list(session.scalars(query.order_by(WebhookMessage.id.desc()).limit(min(filters.limit, PAGE_LIMIT))))


def attempts_by_message(
    session: Session, endpoint_id: uuid.UUID, message_ids: list[uuid.UUID], *, actor: Actor
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """The attempts of each of the endpoint's ``message_ids``, newest first."""
    get_endpoint(session, endpoint_id, actor=actor)
    found: dict[uuid.UUID, list[WebhookAttempt]] = {message_id: [] for message_id in message_ids}
    if message_ids:
        query = select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id,
                                             WebhookAttempt.message_id.in_(message_ids))
        for attempt in session.scalars(query.order_by(WebhookAttempt.id.desc())):
            found[attempt.message_id].append(attempt)
    return found


def message(session: Session, endpoint_id: uuid.UUID, message_id: uuid.UUID, *, actor: Actor) -> WebhookMessage:
    get_endpoint(session, endpoint_id, actor=actor)
    found = session.get(WebhookMessage, message_id)
    if found is None or found.endpoint_id != endpoint_id:
        raise NotFound("no such message for this endpoint")
    return found


@dataclass(frozen=True)
class AttemptFilter:
    outcome: str | None = None
    message_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


def attempts(session: Session, endpoint_id: uuid.UUID, filters: AttemptFilter, *, actor: Actor) -> list[WebhookAttempt]:
    """Every request made to the endpoint, newest first."""
    get_endpoint(session, endpoint_id, actor=actor)
    query = select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id)
    if filters.outcome:
        query = query.where(WebhookAttempt.outcome == filters.outcome)
    if filters.message_id:
        query = query.where(WebhookAttempt.message_id == filters.message_id)
    if filters.since:
        query = query.where(WebhookAttempt.at >= filters.since)
    if filters.until:
        query = query.where(WebhookAttempt.at < filters.until)
    if filters.before_id:
        query = query.where(WebhookAttempt.id < filters.before_id)
    return list(session.scalars(query.order_by(WebhookAttempt.id.desc()).limit(min(filters.limit, PAGE_LIMIT))))


# -- replay ---------------------------------------------------------------------------


def _usable(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it before replaying to it")


def _replay(session: Session, found: WebhookMessage, now: datetime) -> None:
    """Send ``found`` again from the start of the schedule, with the same webhook-id."""
    found.round += 1
    found.status, found.attempts, found.finished_at, found.last_error = PENDING, 0, None, None
    delivery.schedule_next(session, found, now)


def replay_message(session: Session, endpoint_id: uuid.UUID, message_id: uuid.UUID, *, actor: Actor) -> WebhookMessage:
    found = message(session, endpoint_id, message_id, actor=actor)
    _usable(found.endpoint)
    _replay(session, found, utcnow())
    _audit(session, found.endpoint, "replayed", "webhook message replayed", actor, message_id=str(found.id),
           webhook_id=found.webhook_id)
    return found


def replay_range(
    session: Session, endpoint_id: uuid.UUID, *, since: datetime, until: datetime, only_failed: bool, actor: Actor
) -> int:
    """Replay every message (or every given-up one) of ``[since, until)``; returns how many."""
    endpoint = get_endpoint(session, endpoint_id, actor=actor)
    if until <= since:
        raise ValidationFailed.on("until", "must be after since")
    _usable(endpoint)
    query = select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint_id, WebhookMessage.created_at >= since,
                                         WebhookMessage.created_at < until)
    if only_failed:
        query = query.where(WebhookMessage.status == FAILED)
    found = list(session.scalars(query.order_by(WebhookMessage.event_id, WebhookMessage.id).limit(MAX_REPLAY + 1)))
    if len(found) > MAX_REPLAY:
        raise ValidationFailed.on("until", f"the range holds more than {MAX_REPLAY} messages: replay a shorter one")
    now = utcnow()
    for each in found:
        _replay(session, each, now)
    _audit(session, endpoint, "replayed", f"{len(found)} webhook messages replayed", actor, since=since.isoformat(),
           until=until.isoformat(), only_failed=only_failed, count=len(found))
    return len(found)
