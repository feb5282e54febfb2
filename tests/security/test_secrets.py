"""The secret key, through the `pipewise` command as an operator runs it: without
PIPEWISE_SECRET_KEY a random key is generated once into the data folder (mode 0600) and
every process uses it; `pipewise serve` refuses the built-in key on a public address."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from pipewise.config import BUILTIN_SECRET_KEY
from pipewise.web.common import SESSION_COOKIE
from tests.cli.test_processes import free_port, read_until

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def install(tmp_path: Path) -> Path:
    """A fresh installation folder: its own SQLite database and data folder."""
    return tmp_path


def environment(install: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWISE_")}
    env.update(
        PYTHONPATH=SRC,
        PIPEWISE_DATABASE_URL=f"sqlite:///{install / 'pipewise.db'}",
        PIPEWISE_DATA_DIR=str(install / "var"),
        PIPEWISE_OUTBOX_DIR=str(install / "outbox"),
        **extra,
    )
    return env


def pipewise(install: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipewise.cli.main", *args],
        env=environment(install, **extra), cwd=install, capture_output=True, text=True, timeout=120,
    )


def start_server(install: Path, port: int, host: str = "127.0.0.1", **extra: str) -> subprocess.Popen[str]:
    assert pipewise(install, "db", "upgrade", **extra).returncode == 0
    return subprocess.Popen(
        [sys.executable, "-m", "pipewise.cli.main", "serve", "--host", host, "--port", str(port)],
        env=environment(install, **extra), cwd=install, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


class TestGeneratedKey:
    def test_first_run_writes_a_private_random_key_that_every_process_uses(self, install):  # type: ignore[no-untyped-def]
        result = pipewise(install, "init", "--demo-admin")
        assert result.returncode == 0, result.stderr
        key_file = install / "var" / "secret_key"
        key = key_file.read_text().strip()
        assert len(key) >= 40 and key != BUILTIN_SECRET_KEY
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

        assert pipewise(install, "worker", "--once").returncode == 0
        assert pipewise(install, "users", "list").returncode == 0
        assert key_file.read_text().strip() == key  # generated once, then only read

        # The server signs its session cookies with that same key.
        port = free_port()
        server = start_server(install, port)
        try:
            read_until(server, "Uvicorn running")
            response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=30)
            assert response.status_code == 200
            cookie = response.cookies[SESSION_COOKIE]
            session = URLSafeTimedSerializer(key, salt="pipewise.web.session").loads(cookie)
            assert "csrf" in session
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)
        assert key_file.read_text().strip() == key

    def test_a_key_in_the_environment_is_used_and_nothing_is_written(self, install):  # type: ignore[no-untyped-def]
        result = pipewise(install, "db", "upgrade", PIPEWISE_SECRET_KEY="an-operator-chosen-key-of-some-length")
        assert result.returncode == 0, result.stderr
        assert not (install / "var" / "secret_key").exists()


class TestServeRefusesTheBuiltInKey:
    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "pipewise.example.com"])
    def test_on_any_address_but_loopback(self, install, host):  # type: ignore[no-untyped-def]
        result = pipewise(install, "serve", "--host", host, "--port", str(free_port()), PIPEWISE_SECRET_KEY=BUILTIN_SECRET_KEY)
        assert result.returncode == 2
        message = " ".join(result.stderr.split())
        assert f"Refusing to listen on {host} with the built-in secret key" in message
        assert "PIPEWISE_SECRET_KEY" in message
        assert "Traceback" not in result.stderr
        assert "Uvicorn running" not in result.stdout + result.stderr

    @pytest.mark.parametrize(
        ("host", "key"), [("0.0.0.0", None), ("127.0.0.1", BUILTIN_SECRET_KEY)], ids=["generated-key-public", "built-in-loopback"]
    )
    def test_a_generated_key_serves_anywhere_and_the_built_in_one_on_loopback(self, install, host, key):  # type: ignore[no-untyped-def]
        port = free_port()
        server = start_server(install, port, host=host, **({"PIPEWISE_SECRET_KEY": key} if key else {}))
        try:
            read_until(server, "Uvicorn running")
            assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=30).status_code == 200
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)
