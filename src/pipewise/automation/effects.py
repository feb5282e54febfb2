"""External effects (webhook calls, e-mails) made at most once per step key.

Before an effect is tried, its attempt is counted in ``automation_effect``, and as soon as
it succeeds its outcome is stored; on PostgreSQL both commit on their own connection, so
they survive a worker killed before the step's transaction commits. A step that runs again
finds either a finished effect — and does not repeat it — or an attempt with no outcome
(the worker died during the call), which it retries with the same idempotency key so the
receiver can drop the duplicate. At most the one call in flight when a worker dies is
sent twice, and never acted on twice by a receiver that dedupes by key.

Webhooks go out through ``netguard``: no loopback, link-local or private address unless an
operator allows it, checked for every connection, redirects included. A receiver's answer
is judged by its status code; its body is never read into an outcome or a decision."""

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from pipewise import netguard
from pipewise.automation.context import PermanentStepFailure, StepFailed
from pipewise.automation.models import Effect
from pipewise.automation.settings import get_automation_settings
from pipewise.db.base import utcnow

SIGNATURE_HEADER = "X-Pipewise-Signature"
KEY_HEADER = "Idempotency-Key"
ATTEMPT_HEADER = "X-Pipewise-Attempt"
# Redirects that keep the method and body (307, 308) are followed this many times, each
# hop checked like the first; any other redirect fails the call.
MAX_REDIRECTS = 3


def _autonomous(session: Session) -> Any:
    """On PostgreSQL, a connection of its own whose writes commit at once, whatever later
    happens to the step's transaction; None on SQLite (one writer: the step's own)."""
    bind = session.get_bind()
    return bind.engine.begin() if bind.dialect.name == "postgresql" else None


def _count_attempt(session: Session, key: str, kind: str) -> int:
    autonomous = _autonomous(session)
    if autonomous is not None:
        stmt = (
            pg_insert(Effect)
            .values(key=key, kind=kind, status="attempted", attempts=1, outcome={}, updated_at=utcnow())
            .on_conflict_do_update(index_elements=["key"], set_={"attempts": Effect.attempts + 1, "updated_at": utcnow()})
            .returning(Effect.attempts)
        )
        with autonomous as connection:
            return int(connection.execute(stmt).scalar_one())
    effect = session.get(Effect, key)
    if effect is None:
        effect = Effect(key=key, kind=kind, attempts=0, outcome={})
        session.add(effect)
    effect.attempts += 1
    session.flush()
    return effect.attempts


def _store(session: Session, key: str, status: str, outcome: dict[str, Any]) -> None:
    """Record the outcome; on PostgreSQL at once, so a step whose transaction is lost
    after a successful call finds the call done and does not repeat it."""
    values = {"status": status, "outcome": outcome, "updated_at": utcnow()}
    autonomous = _autonomous(session)
    if autonomous is not None:
        with autonomous as connection:
            connection.execute(update(Effect).where(Effect.key == key).values(**values))
        return
    session.execute(update(Effect).where(Effect.key == key).values(**values))


def once(session: Session, *, key: str, kind: str, perform: Callable[[int], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """Run ``perform(attempt)`` unless an effect with ``key`` already succeeded.
    Returns the outcome and whether it was replayed from an earlier success."""
    done = session.scalar(select(Effect.outcome).where(Effect.key == key, Effect.status == "succeeded"))
    if done is not None:
        return done, True
    attempt = _count_attempt(session, key, kind)
    try:
        outcome = perform(attempt)
    except StepFailed as exc:
        _store(session, key, "failed", {"error": str(exc), "attempt": attempt})
        raise
    _store(session, key, "succeeded", outcome)
    return outcome, False


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` — check it with the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    expected = signature(secret, parts.get("t", ""), body)
    return hmac.compare_digest(expected, header)


if TYPE_CHECKING:
    import httpx

_client: "httpx.Client | None" = None


def _http() -> "httpx.Client":
    global _client
    if _client is None:
        _client = netguard.http_client(get_automation_settings().webhook_timeout_seconds)
    return _client


def post_webhook(*, url: str, payload: dict[str, Any], key: str, secret: str, attempt: int) -> dict[str, Any]:
    import httpx  # loaded with the first outbound call (netguard.http_client)

    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        KEY_HEADER: key,
        ATTEMPT_HEADER: str(attempt),
        SIGNATURE_HEADER: signature(secret, str(int(time.time())), body),
        "User-Agent": "Pipewise-Automation",
    }
    target = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            with _http().stream("POST", target, content=body, headers=headers) as response:
                status, location = response.status_code, response.headers.get("location")
        except netguard.BlockedAddress as exc:
            raise PermanentStepFailure(f"POST {target} refused: {exc}") from None
        except httpx.HTTPError as exc:
            raise StepFailed(f"POST {target} failed: {exc.__class__.__name__}: {str(exc)[:120]}") from None
        if status in (307, 308) and location:
            target = urljoin(target, location)
            continue
        if status >= 300:
            raise StepFailed(f"POST {target} answered {status}")
        return {"status": status, "attempt": attempt}
    raise PermanentStepFailure(f"POST {url} redirected more than {MAX_REDIRECTS} times")
