"""Test set-up: one database per run (SQLite by default, PostgreSQL when
PIPEWISE_DATABASE_URL points at one), migrated with Alembic, emptied after each test."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

_tmp = Path(tempfile.mkdtemp(prefix="pipewise-test-"))
# Each test process of a run (pytest-xdist starts several, which inherit this environment)
# has its own SQLite database, unless a database was named for the run; the processes a
# test starts itself share their test process's database.
_process = os.environ.get("PYTEST_XDIST_WORKER", "main")
_chosen_by = os.environ.get("PIPEWISE_TEST_DATABASE_CHOSEN_BY")
if "PIPEWISE_DATABASE_URL" not in os.environ or (_chosen_by is not None and _chosen_by != _process):
    os.environ["PIPEWISE_DATABASE_URL"] = f"sqlite:///{_tmp / 'test.db'}"
    os.environ["PIPEWISE_TEST_DATABASE_CHOSEN_BY"] = _process
elif _chosen_by is None and _process != "main":
    raise SystemExit("a named test database is shared: run the suite on it in one process (no -n)")
# Two test processes share two cores: numerical libraries keep to one thread each.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
os.environ["PIPEWISE_SECRET_KEY"] = "test-secret"
os.environ["PIPEWISE_OUTBOX_DIR"] = str(_tmp / "outbox")
os.environ["PIPEWISE_INPROCESS_WORKER"] = "false"

from pipewise import domains  # noqa: E402
from pipewise.config import get_settings  # noqa: E402
from pipewise.db import migrate  # noqa: E402
from pipewise.db.base import Base  # noqa: E402
from pipewise.db import process_cache  # noqa: E402
from pipewise.db.session import get_engine, get_sessionmaker, reset_engine  # noqa: E402
from pipewise.jobs import service as jobs  # noqa: E402

domains.load()  # every record type, table and handler, as the app has them
pytest_plugins = ("tests.browser",)  # the live server and the browser, one each per test process
IS_POSTGRES = os.environ["PIPEWISE_DATABASE_URL"].startswith("postgresql")


def _reset_postgres_schema() -> None:
    with get_engine().begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    get_settings.cache_clear()
    reset_engine()
    if IS_POSTGRES:
        _reset_postgres_schema()
    migrate.upgrade()
    yield get_settings().database_url
    reset_engine()


def empty_all_tables() -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with get_engine().begin() as conn:
        if IS_POSTGRES:
            # TRUNCATE costs the same for an empty table as for a full one, and a test
            # fills a handful of the tables: ask which have rows, in one statement.
            filled = conn.execute(text(" UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables))).scalars().all()
            if filled:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in filled) + " RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    process_cache.clear_all()  # the rows it kept are gone, deleted behind the ORM's back


@pytest.fixture(autouse=True)
def clean_database(database: str) -> Iterator[None]:
    yield
    jobs.settle()  # a background job a test started (an import, an export) ends before the next test
    empty_all_tables()


@pytest.fixture
def session(database: str):  # type: ignore[no-untyped-def]
    """A session for arranging and checking; commit what the code under test must see."""
    s = get_sessionmaker()()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def factory(session):  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    return Factory(session)


_app: list = []  # [(settings, app)]


def shared_app():  # type: ignore[no-untyped-def]
    """The app, built once per test process and settings: building its 650 routes takes
    about 0.2 s of CPU, and a thousand tests ask for one. The app keeps no state of its
    own between requests; a test that changes the environment clears the settings cache,
    which gives it a new settings object and so a new app."""
    from pipewise.app import create_app

    settings = get_settings()
    if not _app or _app[0][0] is not settings:
        _app[:] = [(settings, create_app(start_worker=False))]
    return _app[0][1]


@pytest.fixture
def api(database: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(shared_app()) as client:
        yield client
