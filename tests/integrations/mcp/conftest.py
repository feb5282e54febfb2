"""MCP clients for the tests: the SDK's own client, talking to `pipewise mcp` started as a
real process against the test database, over stdio or over streamable HTTP.

The tests are synchronous (the factories, the world and the REST client are), so each
client lives in an event loop of its own thread (an anyio blocking portal) and the tests
call its tools through it."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.cli.conftest import cli  # noqa: F401 - `pipewise …` in-process

SRC = str(Path(__file__).resolve().parents[3] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
COMMAND = [sys.executable, "-m", "pipewise.cli.main", "mcp"]


@dataclass
class Answer:
    """A tool's answer: its payload, or (``error``) the refusal's status and messages."""

    ok: bool
    data: dict[str, Any]
    text: str

    @property
    def status(self) -> int:
        return 200 if self.ok else self.data["error"]["status"]


class Client:
    def __init__(self, portal: BlockingPortal, session: ClientSession) -> None:
        self.portal, self.session = portal, session

    def call(self, tool: str, **arguments: Any) -> Answer:
        args = {k: str(v) if hasattr(v, "hex") else v for k, v in arguments.items()}  # ids as text
        result = self.portal.call(self.session.call_tool, tool, args)
        text = "".join(c.text for c in result.content if c.type == "text")
        data = result.structuredContent if result.structuredContent is not None else {"error": {"status": 0, "detail": text}}
        return Answer(not result.isError, data, text)

    def tools(self) -> list[str]:
        return [t.name for t in self.portal.call(self.session.list_tools).tools]


async def _hold(transport: Any, done: anyio.Event, *, task_status: Any) -> None:
    """Open the transport and the session in one task (their task groups must close in
    the task that opened them), hand the session over, and keep it until ``done``."""
    async with transport as streams, ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        task_status.started(session)
        await done.wait()


@contextmanager
def client(transport: Any) -> Iterator[Client]:
    """A client session over ``transport`` (an async context manager yielding streams)."""
    with start_blocking_portal() as portal:
        done = portal.call(anyio.Event)
        held, session = portal.start_task(_hold, transport, done)
        try:
            yield Client(portal, session)
        finally:
            portal.call(done.set)
            held.result(timeout=30)


def stdio(token: str | None, *extra: str) -> Any:
    env = {k: v for k, v in ENV.items() if k != "PIPEWISE_API_TOKEN"}
    if token:
        env["PIPEWISE_API_TOKEN"] = token
    return stdio_client(StdioServerParameters(command=COMMAND[0], args=[*COMMAND[1:], *extra], env=env))


def over_http(url: str, token: str) -> Any:
    return streamable_http_client(url, http_client=httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(calls_per_minute: int = 10_000, **settings: str) -> Iterator[str]:
    """`pipewise mcp --http` on a free loopback port (``settings``: more PIPEWISE_* variables);
    yields its MCP address."""
    port = free_port()
    process = subprocess.Popen([*COMMAND, "--http", "--port", str(port), "--calls-per-minute", str(calls_per_minute)],
                               env={**ENV, **{f"PIPEWISE_{k.upper()}": v for k, v in settings.items()}}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else "the server ended"
            try:
                httpx.post(url, json={}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
