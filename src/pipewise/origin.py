"""Where the work in progress comes from: the web UI, an API token, the command line, the
worker, a workflow, a sequence or an MCP client. Each entry point sets it once (the HTTP
middleware for a request, the CLI at start, the worker and the engines around the work they
do); the audit trail reads it, so no call site has to pass it along."""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

# Channels whose writes no person made at that moment: every one of them is audited.
# ("system", the default, is work outside any entry point: start-up, tests.)
AUTOMATED = frozenset({"worker", "workflow", "sequence"})


@dataclass(frozen=True)
class Origin:
    channel: str  # web | api | cli | mcp | worker | workflow | sequence | system
    via: str | None = None  # which workflow, sequence or token
    # The HTTP request's scope, read only when an entry is written (most requests write none).
    scope: MutableMapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def automated(self) -> bool:
        return self.channel in AUTOMATED



_current: ContextVar[Origin] = ContextVar("pipewise_origin", default=Origin("system"))


def current() -> Origin:
    return _current.get()


def set_origin(origin: Origin) -> None:
    """For an entry point whose context ends with it (a request, a CLI run, a worker thread)."""
    _current.set(origin)


@contextmanager
def acting(channel: str, via: str | None = None) -> Iterator[Origin]:
    """Within the block, work comes from ``channel`` (keeping the request's address)."""
    token = _current.set(replace(_current.get(), channel=channel, via=via))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class RequestOrigin:
    """ASGI middleware: a request under /api/ comes from the API, any other from the web UI
    (a public page's visitor too: the entry names no user then)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            _current.set(Origin("api" if scope["path"].startswith("/api/") else "web", scope=scope))
        await self.app(scope, receive, send)
