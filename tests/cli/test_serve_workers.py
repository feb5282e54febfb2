"""`pipewise serve --workers N`: several API processes on one port (PostgreSQL), refused on
SQLite, and never more than one in-process outbox worker."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import httpx
import pytest
from sqlalchemy import func, select

from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.events.models import OutboxEvent
from tests.cli.test_processes import free_port, start
from tests.conftest import IS_POSTGRES

needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="several API processes need PostgreSQL; set PIPEWISE_DATABASE_URL"),
]


@dataclass
class Served:
    port: int
    parent: subprocess.Popen[str]
    pids: list[int]  # the API processes
    output: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serving(*options: str, env: dict[str, str] | None = None, processes: int = 2) -> Iterator[Served]:
    """`pipewise serve --workers <processes>` until each API process has started; its
    output keeps being collected (the access log must not fill the pipe)."""
    port = free_port()
    with patch.dict(os.environ, env or {}):
        process = start("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes), *options)
    assert process.stdout is not None
    lines: list[str] = []
    reader = None
    try:
        pids: list[int] = []
        started = 0
        for line in process.stdout:
            lines.append(line)
            if match := re.search(r"Started server process \[(\d+)\]", line):
                pids.append(int(match[1]))
            started += "Application startup complete" in line
            if started == processes:
                break
        else:
            raise AssertionError("serve ended before its processes started:\n" + "".join(lines))
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        reader.start()
        yield Served(port, process, pids, lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if reader is not None:
            reader.join(timeout=10)
        print("".join(lines))  # pytest shows it when the test fails


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def connections_held(pid: int, port: int) -> int:
    """Established TCP connections on ``port`` whose server end ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        held += local_port == port and state == "01" and inode in inodes
    return held


def create_contacts(url: str, token: str, count: int, *, connections: int = 8) -> list[httpx.Client]:
    """POST ``count`` contacts over ``connections`` keep-alive connections at once; the
    clients are returned open, so their connections can still be looked at."""
    clients = [httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) for _ in range(connections)]

    def post(n: int) -> int:
        body = {"first_name": f"Ada{n}", "last_name": "Lovelace", "email": f"ada.{n}.{time.monotonic_ns()}@example.com"}
        return clients[n % connections].post("/api/v1/contacts", json=body).status_code

    with ThreadPoolExecutor(connections) as pool:
        statuses = list(pool.map(post, range(count)))
    assert statuses == [201] * count
    return clients


class TestOnSQLite:
    def test_several_processes_are_refused(self, cli, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("PIPEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'one-writer.db'}")
        get_settings.cache_clear()
        try:
            result = cli("serve", "--workers", "2")
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
        assert result.exit_code == 2
        assert "--workers 2 needs PostgreSQL" in result.output
        assert "one process write at a time" in result.output


@pytest.mark.usefixtures("database")
class TestOnPostgres:
    pytestmark = needs_postgres

    def test_two_processes_share_the_port_and_one_that_dies_is_replaced(self, factory, session):  # type: ignore[no-untyped-def]
        token = factory.token(factory.user(role="admin"))
        session.commit()
        with serving() as served:
            assert len(set(served.pids)) == 2
            assert all(parent_of(pid) == served.parent.pid for pid in served.pids)
            held: dict[int, int] = {}
            for _ in range(10):  # the kernel hashes each new connection to one process's socket
                clients = create_contacts(served.url, token, 48, connections=16)
                held = {pid: connections_held(pid, served.port) for pid in served.pids}
                for client in clients:
                    client.close()
                if all(held.values()):
                    break
            assert all(held.values()), held

            os.kill(served.pids[0], signal.SIGKILL)
            for _ in range(600):
                if "".join(served.output).count("Application startup complete") == 3:
                    break
                time.sleep(0.1)
            assert f"API process {served.pids[0]} ended" in "".join(served.output)
            for client in create_contacts(served.url, token, 16):
                client.close()
        assert session.scalar(select(func.count()).select_from(Contact)) >= 64
        assert served.parent.returncode == 0  # SIGINT stops every process
        assert "Traceback" not in "".join(served.output)

    def test_a_port_in_use_is_reported(self, cli):  # type: ignore[no-untyped-def]
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            result = cli("serve", "--workers", "2", "--port", str(taken.getsockname()[1]))
        assert result.exit_code == 1
        assert "Cannot listen on 127.0.0.1" in result.output

    def test_the_inprocess_worker_runs_once_in_the_supervisor(self, factory, session):  # type: ignore[no-untyped-def]
        token = factory.token(factory.user(role="admin"))
        session.commit()
        with serving(env={"PIPEWISE_INPROCESS_WORKER": "true", "PIPEWISE_WORKER_POLL_SECONDS": "0.1"}) as served:
            assert "the background worker runs in the supervising process" in "".join(served.output)
            for pid in served.pids:
                environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                assert b"PIPEWISE_INPROCESS_WORKER=false" in environment
            for client in create_contacts(served.url, token, 20):
                client.close()
            pending = None
            for _ in range(300):
                session.rollback()
                pending = session.scalar(select(func.count()).where(OutboxEvent.processed_at.is_(None)))
                if pending == 0:
                    break
                time.sleep(0.1)
            assert pending == 0
