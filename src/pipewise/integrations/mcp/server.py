"""The MCP server: the tools of ``tools.py`` over stdio (one user's token for the whole
session) or over streamable HTTP (each request's ``Authorization: Bearer`` token).

Over HTTP the server is stateless and answers in JSON: any number of processes can
serve behind a load balancer, and every request is authenticated on its own."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import uvicorn
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import ValidationError
from starlette.requests import Request

from pipewise.api.deps import Unauthorized, bearer_token
from pipewise.api.errors import problem, validation_problem
from pipewise.integrations.mcp import tools
from pipewise.integrations.mcp import DEFAULT_CALLS_PER_MINUTE
from pipewise.integrations.mcp.calls import Calls, refusal

INSTRUCTIONS = (
    "Pipewise is a CRM. You act as the person whose API token you use: you see and change only what they may. "
    "Read a record before changing it and pass its version back to a write tool; try a write with dry_run first "
    "when you are unsure. Errors name the status (404: no such record, or not one you may see; 403: not allowed; "
    "409/412: it changed or conflicts; 422: a field is wrong; 429: wait) and each field's problem."
)
HTTP_PATH = "/mcp"

Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class PipewiseMCP(FastMCP):  # type: ignore[type-arg]
    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """Arguments of the wrong type or shape answer as any other invalid field does (422,
        a message per field), not with the SDK's own error text."""
        try:
            return await super().call_tool(name, arguments)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return refusal(validation_problem(exc.__cause__.errors()))
            raise


def build(*, token: str | None = None, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE, host: str = "127.0.0.1",
          port: int = 8765) -> FastMCP:  # type: ignore[type-arg]
    server = PipewiseMCP(
        "Pipewise", instructions=INSTRUCTIONS, host=host, port=port, streamable_http_path=HTTP_PATH,
        stateless_http=True, json_response=True, log_level="WARNING",
        # A browser page must not reach a server on the user's machine (DNS rebinding).
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=host in ("127.0.0.1", "localhost", "::1"),
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        ),
    )
    tools.register(server, Calls(calls_per_minute), token)
    return server


def run_stdio(token: str, *, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE) -> None:
    anyio.run(build(token=token, calls_per_minute=calls_per_minute).run_stdio_async)


def http_app(*, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE, host: str = "127.0.0.1", port: int = 8765) -> Asgi:
    return BearerRequired(build(calls_per_minute=calls_per_minute, host=host, port=port).streamable_http_app())


def run_http(*, host: str, port: int, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE) -> None:
    app = http_app(calls_per_minute=calls_per_minute, host=host, port=port)
    uvicorn.run(app, host=host, port=port, log_level="warning")


class BearerRequired:
    """Refuse a request without an ``Authorization: Bearer`` header before MCP reads it
    (the token itself is checked on every tool call, so a revocation applies at once)."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] == "http":
            try:
                await bearer_token(Request(scope))
            except Unauthorized as exc:
                refused = problem(exc.status, exc.title, exc.detail)
                refused.headers["WWW-Authenticate"] = "Bearer"
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
