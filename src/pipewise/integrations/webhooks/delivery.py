"""Deliveries, made by the worker after the events they carry have committed.

``fan_out`` takes every event from the outbox and queues one message per enabled endpoint
whose event types match it, each with a ``webhook.deliver`` timer due now. The worker
claims due timers in batches; ``deliver_batch`` picks a batch's messages and, once the
batch has committed, sends them side by side (through ``netguard``, so no internal address
is ever contacted), logs every attempt, and
schedules the next attempt of each failed one on a jittered schedule spanning more than
three days. A 410 disables the endpoint at once; so do five days of nothing but failures,
and then every admin is told. An ordered endpoint gets a record's messages one at a time:
a later one waits until the earlier one is delivered or given up."""

import fnmatch
import json
import logging
import random
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise import netguard
from pipewise.audit import service as audit
from pipewise.auth.models import Role, User
from pipewise.db.base import on_sqlite_index, utcnow, uuid7
from pipewise.db.session import insert_later, session_scope
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events import bus
from pipewise.events.models import OUTBOX_PENDING_INDEX, OutboxEvent, ScheduledAction
from pipewise.integrations.webhooks.models import (
    DELIVERED,
    FAILED,
    PENDING,
    UNFINISHED,
    WAITING,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from pipewise.integrations.webhooks.signing import signature_header
from pipewise.notifications import service as notifications

log = logging.getLogger("pipewise.webhooks")

DELIVER_ACTION = "webhook.deliver"
RECHECK_ACTION = "webhook.recheck"
PING_TYPE = "webhook.ping"
# The wait after each failed attempt (the Standard Webhooks schedule, continued with ten
# hours until past three days), each stretched or shrunk by up to a tenth at random so
# that receivers coming back up are not hit by every sender at the same second.
RETRY_DELAYS = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
    *[timedelta(hours=10)] * 8,
)
JITTER = 0.1
DISABLE_AFTER = timedelta(days=5)
TIMEOUT_SECONDS = 15.0
RESPONSE_BODY_LIMIT = 2000
PARALLEL_SENDS = 8
# After this, an attempt whose outcome was never written (the worker died while sending) is
# made again: longer than a batch's sends can take (200 at 8 at a time, 15 s at most each).
LEASE = timedelta(minutes=10)
IN_FLIGHT_PAUSE = timedelta(seconds=1)
WORKER_LABEL = "Pipewise worker"


def retry_delay(failed_attempts: int) -> timedelta | None:
    """The wait after ``failed_attempts`` failures in a row; None: give up."""
    if failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)


def matches(patterns: Iterable[str], names: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns for name in names)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def encode(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """The body every attempt sends, byte for byte: ``{"type", "timestamp", "data"}``."""
    return json.dumps({"type": event_type, "timestamp": iso(at), "data": data}, separators=(",", ":"), default=str)


# -- queueing ------------------------------------------------------------------------


class _Subscribed:
    """The enabled endpoints and their patterns, read once per worker transaction."""

    endpoints: list[tuple[uuid.UUID, tuple[str, ...]]] | None = None


def _enabled_endpoints(session: Session) -> list[tuple[uuid.UUID, tuple[str, ...]]]:
    subscribed = unit_of_work(session).state(_Subscribed)
    if subscribed.endpoints is None:
        rows = session.execute(select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.enabled))
        subscribed.endpoints = [(endpoint_id, tuple(patterns)) for endpoint_id, patterns in rows]
    return subscribed.endpoints


def event_data(event: bus.Event) -> dict[str, Any]:
    """What a delivery tells: the record's type and id, who acted, the event's own fields
    and, for a record change, the changed fields' old and new values."""
    data = {"record_type": event.record_type, "record_id": event.record_id, "actor_id": event.actor_id,
            **event.payload.get("data", {})}
    if "changes" in event.payload:
        data["changes"] = event.payload["changes"]
    return data


def fan_out(session: Session, event: bus.Event) -> None:
    """One message per enabled endpoint that subscribes to ``event``."""
    targets = [endpoint_id for endpoint_id, patterns in _enabled_endpoints(session) if matches(patterns, event.names)]
    if not targets:
        return
    body = encode(event.name, event.occurred_at, event_data(event))
    for endpoint_id in targets:
        queue(session, endpoint_id=endpoint_id, event_id=event.id, event_name=event.name, record_id=event.record_id,
              body=body, at=event.occurred_at)


def queue(
    session: Session, *, endpoint_id: uuid.UUID, event_name: str, body: str, at: datetime, event_id: int | None = None,
    record_id: uuid.UUID | None = None,
) -> uuid.UUID:
    message_id, now = uuid7(), utcnow()
    insert_later(session, WebhookMessage, {
        "id": message_id, "endpoint_id": endpoint_id, "event_id": event_id, "event_name": event_name,
        "record_id": record_id, "body": body, "created_at": at, "status": PENDING,
        "attempts": 0, "round": 0, "next_attempt_at": now, "last_error": None, "finished_at": None,
    }, ignore_conflicts=False)
    _schedule(session, message_id, round_=0, attempt=0, at=now)
    return message_id


def _schedule(session: Session, message_id: uuid.UUID, *, round_: int, attempt: int, at: datetime) -> None:
    """A ``webhook.deliver`` timer for attempt ``attempt`` of the message's ``round_``. Its
    key holds the time too: an attempt may be scheduled more than once (a message that
    waited behind an earlier one, one whose outcome was lost)."""
    insert_later(session, ScheduledAction, {
        "key": f"{DELIVER_ACTION}:{message_id.hex}:{round_}:{attempt}:{at.timestamp():.6f}", "kind": DELIVER_ACTION,
        "payload": {"message_id": str(message_id), "round": round_, "attempt": attempt}, "run_at": at, "status": "pending",
    })


def schedule_next(session: Session, message: WebhookMessage, at: datetime) -> None:
    message.next_attempt_at = at
    _schedule(session, message.id, round_=message.round, attempt=message.attempts, at=at)


# -- sending -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    outcome: str  # delivered | failed | refused | gone
    status: int | None = None
    body: str | None = None
    duration_ms: int = 0
    error: str | None = None


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    overlap = endpoint.previous_secret and endpoint.previous_secret_until and now < endpoint.previous_secret_until
    return [endpoint.secret, endpoint.previous_secret] if overlap else [endpoint.secret]  # type: ignore[list-item]


def outgoing(message: WebhookMessage, now: datetime) -> Outgoing:
    body, timestamp = message.body.encode(), int(time.time())  # receivers check it against their own clock
    return Outgoing(message.endpoint.url, body, {
        "content-type": "application/json",
        "user-agent": "Pipewise-Webhooks/1",
        "webhook-id": message.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use(message.endpoint, now), message.webhook_id, timestamp, body),
    })


if TYPE_CHECKING:
    import httpx

_client: "httpx.Client | None" = None
_pool: ThreadPoolExecutor | None = None


def _http() -> "httpx.Client":
    global _client
    if _client is None:
        _client = netguard.http_client(TIMEOUT_SECONDS)
    return _client


def post(request: Outgoing) -> Answer:
    """One POST; never raises. Redirects are not followed (the URL is the one subscribed)."""
    import httpx  # loaded with the first outbound call (netguard.http_client)

    started = time.perf_counter()
    try:
        with _http().stream("POST", request.url, content=request.body, headers=request.headers) as response:
            status, answer = response.status_code, bytearray()
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= RESPONSE_BODY_LIMIT:
                    break
    except netguard.BlockedAddress as exc:
        return Answer("refused", error=f"refused, not contacted: {exc}"[:500])
    except httpx.HTTPError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Answer("failed", duration_ms=elapsed, error=f"{exc.__class__.__name__}: {exc}"[:500])
    elapsed = int((time.perf_counter() - started) * 1000)
    text = bytes(answer[:RESPONSE_BODY_LIMIT]).decode("utf-8", "replace")
    if 200 <= status < 300:
        return Answer("delivered", status, text, elapsed)
    return Answer("gone" if status == 410 else "failed", status, text, elapsed, f"the receiver answered {status}")


def post_all(requests: list[Outgoing]) -> list[Answer]:
    global _pool
    if len(requests) <= 1:
        return [post(request) for request in requests]
    if _pool is None:
        _pool = ThreadPoolExecutor(PARALLEL_SENDS, thread_name_prefix="pipewise-webhooks")
    return list(_pool.map(post, requests))


# -- the worker's batch ----------------------------------------------------------------


def _earlier_unfinished(session: Session, message: WebhookMessage) -> bool:
    earlier = select(WebhookMessage.id).where(
        WebhookMessage.endpoint_id == message.endpoint_id, WebhookMessage.record_id == message.record_id,
        WebhookMessage.status.in_(UNFINISHED), WebhookMessage.event_id < message.event_id,
    )
    return session.scalar(earlier.limit(1)) is not None


def _in_order(message: WebhookMessage) -> bool:
    return message.endpoint.ordered and message.record_id is not None and message.event_id is not None


def _earlier_event_in_flight(session: Session, message: WebhookMessage) -> bool:
    """Whether an earlier event about the record is still being fanned out (by another
    worker, whose messages are not committed yet)."""
    earlier = select(OutboxEvent.id).where(OutboxEvent.processed_at.is_(None), OutboxEvent.id < message.event_id,
                                           OutboxEvent.record_id == message.record_id)
    return session.scalar(on_sqlite_index(earlier, OutboxEvent, OUTBOX_PENDING_INDEX).limit(1)) is not None


@dataclass(frozen=True)
class _Send:
    """One attempt to make after the batch commits: what to send, and which attempt it is."""

    message_id: uuid.UUID
    round: int
    attempt: int
    request: Outgoing


def deliver_batch(session: Session, actions: list[ScheduledAction]) -> None:
    """Pick the messages of a claimed batch of ``webhook.deliver`` timers to send. They go
    out once the batch has committed, side by side, with no database lock held while a
    receiver answers (``_send_and_record``); a timer ``LEASE`` later sends again whatever a
    crash left without an outcome (``recheck``)."""
    wanted = {uuid.UUID(a.payload["message_id"]): (int(a.payload.get("round", 0)), int(a.payload.get("attempt", 0)))
              for a in actions}
    found = session.scalars(select(WebhookMessage).where(WebhookMessage.id.in_(wanted))).all()
    now = utcnow()
    sends: list[_Send] = []
    for message in sorted(found, key=lambda m: (m.event_id or 0, m.created_at)):
        if message.status != PENDING or (message.round, message.attempts) != wanted[message.id]:
            continue  # finished, tried since, or replayed since this attempt was scheduled
        if not message.endpoint.enabled and message.event_name != PING_TYPE:
            finish(session, message, FAILED, now, "the endpoint is disabled")
        elif _in_order(message) and _earlier_unfinished(session, message):
            message.status, message.next_attempt_at = WAITING, None
        elif _in_order(message) and _earlier_event_in_flight(session, message):
            schedule_next(session, message, now + IN_FLIGHT_PAUSE)
        else:
            sends.append(_Send(message.id, message.round, message.attempts, outgoing(message, now)))
    if sends:
        lease = f"{RECHECK_ACTION}:{uuid7().hex}"
        in_flight = [[str(send.message_id), send.round, send.attempt] for send in sends]
        bus.schedule(session, key=lease, kind=RECHECK_ACTION, run_at=now + LEASE, payload={"messages": in_flight})
        unit_of_work(session).after_commit(lambda: _send_and_record(sends, lease))


def recheck(session: Session, action: ScheduledAction) -> None:
    """The safety net of a batch whose outcomes were never written: each of its messages
    still at the same attempt is scheduled again, now."""
    for message_id, round_, attempt in action.payload["messages"]:
        message = session.get(WebhookMessage, uuid.UUID(message_id))
        if message is not None and (message.status, message.round, message.attempts) == (PENDING, round_, attempt):
            schedule_next(session, message, utcnow())


def _send_and_record(sends: list[_Send], lease: str) -> None:
    answers = post_all([send.request for send in sends])
    now = utcnow()
    with session_scope() as session:
        found = {m.id: m for m in session.scalars(
            select(WebhookMessage).where(WebhookMessage.id.in_([send.message_id for send in sends])))}
        delivered: list[uuid.UUID] = []
        for send, answer in zip(sends, answers, strict=True):
            message = found.get(send.message_id)
            if message is None:
                continue  # its endpoint was deleted meanwhile
            insert_later(session, WebhookAttempt, {
                "message_id": message.id, "endpoint_id": message.endpoint_id, "at": now, "outcome": answer.outcome,
                "url": send.request.url, "request_headers": send.request.headers, "response_status": answer.status,
                "response_body": answer.body, "duration_ms": answer.duration_ms, "error": answer.error,
            }, ignore_conflicts=False)
            if (message.status, message.round, message.attempts) != (PENDING, send.round, send.attempt):
                continue  # replayed while this attempt was on its way: the replay decides what follows
            if answer.outcome == "delivered" and not message.endpoint.ordered:
                delivered.append(message.id)  # the common case, written below in one statement
                if message.endpoint.failing_since is not None:
                    message.endpoint.failing_since = None
            else:
                _record(session, message, answer, now)
        if delivered:
            session.execute(
                update(WebhookMessage).where(WebhookMessage.id.in_(delivered))
                .values(status=DELIVERED, attempts=WebhookMessage.attempts + 1, finished_at=now, next_attempt_at=None,
                        last_error=None).execution_options(synchronize_session=False)
            )
        session.execute(update(ScheduledAction).where(ScheduledAction.key == lease, ScheduledAction.status == "pending")
                        .values(status="cancelled", finished_at=now))


def _record(session: Session, message: WebhookMessage, answer: Answer, now: datetime) -> None:
    endpoint = message.endpoint
    message.attempts += 1
    if answer.outcome == "delivered":
        finish(session, message, DELIVERED, now, None)
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    delay = retry_delay(message.attempts) if answer.outcome == "failed" else None
    if answer.outcome == "gone":
        finish(session, message, FAILED, now, answer.error)
        disable(session, endpoint, "the receiver answered 410 Gone: it wants no more deliveries", now)
    elif delay is None:
        finish(session, message, FAILED, now, answer.error if answer.outcome == "refused"
               else f"given up after {message.attempts} attempts; last: {answer.error}")
    else:
        message.last_error = answer.error
        schedule_next(session, message, now + delay)
    if endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
        disable(session, endpoint, f"every attempt since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC failed", now)


def finish(session: Session, message: WebhookMessage, status: str, now: datetime, error: str | None) -> None:
    message.status, message.finished_at, message.next_attempt_at, message.last_error = status, now, None, error
    if message.endpoint.ordered and message.record_id is not None:
        following = session.scalars(
            select(WebhookMessage).where(
                WebhookMessage.endpoint_id == message.endpoint_id, WebhookMessage.record_id == message.record_id,
                WebhookMessage.status == WAITING,
            ).order_by(WebhookMessage.event_id).limit(1)
        ).first()
        if following is not None:
            following.status = PENDING
            schedule_next(session, following, now)


def disable(session: Session, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Stop deliveries to ``endpoint`` and tell every admin why."""
    endpoint.enabled, endpoint.disabled_reason = False, reason[:300]
    audit.log(session, "webhook_endpoint.disabled", actor=None, label=WORKER_LABEL,
              summary=f"webhook endpoint disabled: {endpoint.url}"[:300], target_type="webhook_endpoint",
              target_id=endpoint.id, details={"reason": reason})
    admins = session.scalars(select(User.id).where(User.role == Role.admin, User.is_active))
    for admin_id in admins:
        notifications.notify(
            session, admin_id, "webhook_disabled", f"Webhook endpoint disabled: {endpoint.url}", body=reason,
            link=f"/settings/webhooks/{endpoint.id}", key=f"webhook_disabled:{endpoint.id}:{iso(now)}:{admin_id}",
        )


def _nothing_left(session: Session, action: ScheduledAction) -> None:
    """Each timer's work was done by ``deliver_batch`` for its whole batch."""


# Rerun-safe: the timers' only effects in the batch are database writes (the sends follow
# its commit).
TIMERS = {
    DELIVER_ACTION: bus.ActionKind(_nothing_left, prepare=deliver_batch, rerun_safe=True),
    RECHECK_ACTION: bus.ActionKind(recheck, rerun_safe=True),
}
SUBSCRIPTIONS = (bus.Subscription("*", "webhooks.fan_out", fan_out, rerun_safe=True),)
