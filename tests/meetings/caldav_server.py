"""A real CalDAV server for the tests: Radicale in a subprocess on a free loopback port,
with one user (htpasswd, plain) and one calendar made over CalDAV (MKCALENDAR)."""

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import caldav

USER, PASSWORD = "rep", "app-password-1"


@dataclass
class Radicale:
    base: str
    calendar_url: str
    process: subprocess.Popen

    def calendar(self) -> caldav.Calendar:
        client = caldav.DAVClient(url=self.base, username=USER, password=PASSWORD)
        return client.calendar(url=self.calendar_url)

    def events(self) -> list:
        return self.calendar().events()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError("radicale exited: " + (process.stderr.read().decode() if process.stderr else ""))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("radicale did not start")


def start(folder: Path) -> Radicale:
    (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", "", f"--server-hosts=127.0.0.1:{port}",
         f"--storage-filesystem-folder={folder / 'collections'}", "--auth-type=htpasswd",
         f"--auth-htpasswd-filename={folder / 'users'}", "--auth-htpasswd-encryption=plain", "--logging-level=warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _wait(port, process)
    base = f"http://127.0.0.1:{port}/"
    calendar_url = f"{base}{USER}/work/"
    client = caldav.DAVClient(url=base, username=USER, password=PASSWORD)
    client.principal().make_calendar(name="Work", cal_id="work")
    return Radicale(base, calendar_url, process)


def stop(server: Radicale) -> None:
    server.process.terminate()
    server.process.wait(timeout=10)
