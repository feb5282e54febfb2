"""`pipewise worker` and `pipewise serve`: in-process for --once, as real processes for
signals and HTTP."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pipewise.events import bus
from pipewise.events.models import OutboxEvent

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def delivered():  # type: ignore[no-untyped-def]
    """Events the test subscriber received."""
    received: list[bus.Event] = []

    @bus.subscribe("account.created", name="tests.cli.account-created")
    def on_account(_session, event):  # type: ignore[no-untyped-def]
        received.append(event)

    yield received
    bus.unsubscribe("tests.cli.account-created")


class TestWorkerOnce:
    def test_drains_the_outbox_to_subscribers(self, cli, factory, session, delivered):  # type: ignore[no-untyped-def]
        account = factory.account(name="Initech")
        session.commit()
        result = cli("worker", "--once")
        assert result.exit_code == 0, result.output
        assert [e.record_id for e in delivered] == [account.id]
        session.expire_all()
        pending = session.scalars(select(OutboxEvent).where(OutboxEvent.processed_at.is_(None))).all()
        assert pending == []

    def test_nothing_due_is_fine(self, cli):  # type: ignore[no-untyped-def]
        result = cli("worker", "--once")
        assert result.exit_code == 0, result.output
        assert "Handled 0 item(s)" in result.stdout


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "pipewise.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    seen = []
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"process ended before printing {marker!r}:\n{''.join(seen)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestLongRunning:
    def test_worker_stops_cleanly_on_sigterm(self):  # type: ignore[no-untyped-def]
        process = start("worker", "--poll", "0.1")
        try:
            read_until(process, "started")
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            process.kill()
        assert process.returncode == 0, output
        assert "stopped" in output
        assert "Traceback" not in output

    def test_serve_answers_on_the_given_port(self):  # type: ignore[no-untyped-def]
        port = free_port()
        process = start("serve", "--host", "127.0.0.1", "--port", str(port))
        try:
            banner = read_until(process, "Uvicorn running")
            assert f"http://127.0.0.1:{port}" in banner
            response = httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=30)
            assert response.status_code == 200
            assert response.json()["info"]["title"] == "Pipewise"
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
