"""Databases for a benchmark run: a fresh, migrated database per benchmark, the settings
and engine pointed at it, and the facts about the machine that the report prints."""

import atexit
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pipewise.config import get_settings
from pipewise.db import migrate
from pipewise.db.session import get_engine, reset_engine

_workdir: list[Path] = []


def workdir() -> Path:
    """A temporary directory for this run's SQLite files, removed when the run ends."""
    if not _workdir:
        _workdir.append(Path(tempfile.mkdtemp(prefix="pipewise-bench-")))
        atexit.register(shutil.rmtree, _workdir[0], True)
    return _workdir[0]


@dataclass(frozen=True)
class Target:
    """A database kind the benchmarks run against."""

    key: str  # sqlite | postgresql
    label: str
    postgres_url: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.key == "sqlite"

    def url(self, name: str) -> str:
        if self.is_sqlite:
            return f"sqlite:///{workdir() / (name + '.db')}"
        assert self.postgres_url is not None
        return self.postgres_url


SQLITE = Target("sqlite", "SQLite (WAL)")


def postgres_target(url: str) -> Target:
    database = make_url(url).database or ""
    if "bench" not in database:
        raise SystemExit(f"refusing to wipe database {database!r}: use one whose name contains 'bench'")
    return Target("postgresql", "PostgreSQL", postgres_url=url)


def use_database(url: str) -> None:
    """Point settings and the cached engine at ``url`` (this process and the ones it starts)."""
    os.environ["PIPEWISE_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engine()


def fresh_database(target: Target, name: str, url: str | None = None) -> str:
    """An empty database with every migration applied (at ``url``, else the target's
    database of that name); returns its URL."""
    url = url or target.url(name)
    if target.is_sqlite:
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    use_database(url)
    if not target.is_sqlite:
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade()
    reset_engine()
    return url


def machine_facts(target_labels: dict[str, str]) -> list[tuple[str, str]]:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    facts = [
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("load average at start (1, 5, 15 min)", load),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", sys.version.split()[0]),
        ("SQLite", sqlite3.sqlite_version),
        ("SQLAlchemy", sqlalchemy.__version__),
    ]
    facts.extend(target_labels.items())
    return facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgres_version() -> str:
    with get_engine().connect() as conn:
        return str(conn.execute(text("SHOW server_version")).scalar())
