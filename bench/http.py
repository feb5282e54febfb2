"""A real uvicorn server process for the API benchmarks, and a small HTTP/1.1 keep-alive
client on asyncio streams: light enough that, on a small machine, the client's own CPU use
does not decide the figure."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (all its threads): on a busy machine
        this, unlike wall time, does not depend on what else is running."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def resident_mb(self) -> float:
        """The server process's resident memory now, in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS for the server process")


PIPEWISE_APP = "pipewise.app:create_app"
# The same server with nothing on it: the floor of a Python web process's memory.
BARE_APP = "bench.http:bare_app"


def bare_app():  # type: ignore[no-untyped-def]
    """An ASGI app that answers every request with an empty 204."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    return app


@contextmanager
def server(database_url: str, *, inprocess_worker: bool, app: str = PIPEWISE_APP) -> Iterator[Server]:
    """Run ``uvicorn <app>`` (one process, the app made by its factory) against ``database_url``."""
    port = _free_port()
    env = dict(
        os.environ,
        PIPEWISE_DATABASE_URL=database_url,
        PIPEWISE_INPROCESS_WORKER=str(inprocess_worker).lower(),
    )
    cmd = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log",
           "--no-proxy-headers"]  # as `pipewise serve` runs it  # fmt: skip
    process = subprocess.Popen(cmd, env=env)
    try:
        _wait_until_listening(port, process)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the API server did not start listening")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str
    body: Any = None

    def encode(self) -> bytes:
        payload = b"" if self.body is None else json.dumps(self.body).encode()
        head = (
            f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    seconds: float
    answered: float  # time.perf_counter() when the whole response had arrived


async def _send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request) -> Response:
    start = time.perf_counter()
    writer.write(request.encode())
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    answered = time.perf_counter()
    return Response(int(status_line.split()[1]), body, answered - start, answered)


async def _connection(
    port: int, queue: "asyncio.Queue[tuple[int, Request]]", out: list[Response], due: Callable[[int], float],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            try:
                index, request = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            wait = due(index) - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            out.append(await _send(reader, writer, request))
    finally:
        writer.close()


async def _run(port: int, requests: Sequence[Request], connections: int, rate: float | None) -> list[Response]:
    queue: asyncio.Queue[tuple[int, Request]] = asyncio.Queue()
    for index, request in enumerate(requests):
        queue.put_nowait((index, request))
    out: list[Response] = []
    start = time.perf_counter()
    due = (lambda _index: start) if rate is None else (lambda index: start + index / rate)
    await asyncio.gather(*(_connection(port, queue, out, due) for _ in range(connections)))
    return out


def send_all(
    port: int, requests: Sequence[Request], *, connections: int = 1, rate: float | None = None,
) -> tuple[list[Response], float]:
    """Send ``requests`` over ``connections`` keep-alive connections, as fast as they are
    answered or, given ``rate``, the n-th not before n / rate seconds from the start; return
    the responses and the wall seconds."""
    start = time.perf_counter()
    responses = asyncio.run(_run(port, requests, connections, rate))
    return responses, time.perf_counter() - start


def expect(responses: list[Response], status: int) -> None:
    bad = [r for r in responses if r.status != status]
    if bad:
        raise RuntimeError(f"{len(bad)} of {len(responses)} requests failed, e.g. {bad[0].status}: {bad[0].body[:300]!r}")
