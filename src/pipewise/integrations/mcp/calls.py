"""One MCP tool call, end to end: who is calling, whether they may call again so soon, one
transaction around the work (rolled back for a dry run), the audit entry, and the answer.

The caller is resolved from their API token exactly as a REST request is (``api.deps``):
on every call, so a revoked token stops working at once. Work runs in a worker thread
with the origin channel "mcp", so the audit trail names where it came from."""

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi.encoders import jsonable_encoder
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.requests import Request

from pipewise import origin
from pipewise.api.deps import current_actor, resolve_actor
from pipewise.api.errors import Problem, problem_of
from pipewise.audit import service as audit
from pipewise.auth.visibility import Actor
from pipewise.db.session import begin_write, get_sessionmaker
from pipewise.integrations.mcp import DEFAULT_CALLS_PER_MINUTE
from pipewise.ratelimit import RateLimit

log = logging.getLogger("pipewise.mcp")


@dataclass(frozen=True)
class Credential:
    """What a call authenticates with: the stdio server's token, or the HTTP request
    (whose ``Authorization: Bearer`` header is read the way the REST API reads it)."""

    token: str | None = None
    request: Request | None = None

    @property
    def key(self) -> str:
        """The token's fingerprint, for the rate limit (the secret itself is not kept)."""
        raw = self.token if self.token is not None else (self.request.headers.get("authorization", "") if self.request else "")
        return hashlib.sha256(raw.encode()).hexdigest()

    def actor(self, session: Session) -> Actor:
        if self.request is not None:
            return current_actor(self.request, session)
        return resolve_actor(session, self.token or "")


Work = Callable[[Session, Actor], Any]
Target = tuple[str, uuid.UUID] | None
Entry = tuple[str, Target] | None  # an audit entry's summary and target


class Calls:
    """Runs the tools' work for one server, with its rate limit per token."""

    def __init__(self, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE) -> None:
        self.limit = RateLimit(calls_per_minute)

    async def read(self, credential: Credential, tool: str, work: Work) -> CallToolResult:
        return await self._call(credential, tool, work, dry_run=False, entry=None)

    async def write(self, credential: Credential, tool: str, work: Work, *, dry_run: bool, summary: str,
                    target: Target = None) -> CallToolResult:
        """``summary``: the audit entry's line (what was asked, in words); ``target``: the
        record it concerns (type, id)."""
        return await self._call(credential, tool, work, dry_run=dry_run, entry=(summary, target))

    async def _call(self, credential: Credential, tool: str, work: Work, *, dry_run: bool, entry: Entry) -> CallToolResult:
        """``entry``: a write's audit entry (None: a read)."""
        wait = self.limit.retry_after(credential.key)
        if wait is not None:
            return refusal(Problem(429, "Too many requests", f"this token made too many calls: wait {wait} seconds and try again"))
        try:
            result = await anyio.to_thread.run_sync(_in_transaction, credential, tool, work, dry_run, entry)
        except Exception as exc:
            found = problem_of(exc)
            if found is None:  # not the caller's fault: logged here, not shown to them
                log.exception("MCP tool %s failed", tool)
                found = Problem(500, "Internal error", "the call failed on the server; the error is logged")
            return refusal(found)
        payload = result if entry is None else {"dry_run": dry_run, **result}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(payload, ensure_ascii=False))],
                              structuredContent=payload if isinstance(payload, dict) else {"items": payload})


def _in_transaction(credential: Credential, tool: str, work: Work, dry_run: bool, entry: Entry) -> Any:
    with origin.acting("mcp", via=f"MCP tool {tool}"):
        session = get_sessionmaker()()
        try:
            if entry is not None:
                begin_write(session)
            actor = credential.actor(session)
            result = work(session, actor)
            session.flush()
            # Encoded while the session is open: the result may name ORM rows.
            result = result.model_dump(mode="json") if isinstance(result, BaseModel) else jsonable_encoder(result)
            if entry is not None and dry_run:
                session.rollback()
                return result
            if entry is not None:
                summary, target = entry
                audit.log(session, f"mcp.{tool}", actor=actor, summary=summary, details={"tool": tool},
                          target_type=target[0] if target else None, target_id=target[1] if target else None)
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def refusal(found: Problem) -> CallToolResult:
    """A tool error an assistant can act on: the status, what went wrong, and each field's message."""
    error = {"status": found.status, "title": found.title, "detail": found.detail, "errors": found.errors}
    text = f"{found.status} {found.title}: {found.detail}"
    return CallToolResult(content=[TextContent(type="text", text=text)], structuredContent={"error": error}, isError=True)
