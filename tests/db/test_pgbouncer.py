"""Behind PgBouncer in transaction mode (PIPEWISE_DATABASE_POOLER=pgbouncer): API writes
from two processes and two workers claiming the outbox, all through a real PgBouncer that
hands a few server connections to whichever client starts a transaction. Session state
(a prepared statement, a SET, an advisory lock) would leak between clients there; the
classic failure is 'prepared statement "_pg3_0" already exists'."""

import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.db.session import reset_engine
from pipewise.events.models import EventDelivery, OutboxEvent
from pipewise.worker.runner import Worker
from tests.cli.test_processes import free_port, read_until
from tests.cli.test_serve_workers import create_contacts, serving
from tests.conftest import IS_POSTGRES

PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")
SERVER_CONNECTIONS = 3

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL; set PIPEWISE_DATABASE_URL=postgresql+psycopg://…"),
    pytest.mark.skipif(PGBOUNCER is None, reason="the pgbouncer binary is not installed (Debian: apt-get install pgbouncer)"),
]


@pytest.fixture
def pgbouncer(database: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the test database; yields its URL."""
    target = make_url(database)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="pipewise-pgbouncer-"))
    folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)  # readable after it drops root
    (folder / "users.txt").write_text(f'"{target.username}" ""\n')
    password = f" password={target.password}" if target.password else ""
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{target.database} = host={target.host or '127.0.0.1'} port={target.port or 5432} "
        f"dbname={target.database} user={target.username}{password}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 500\n"
        + ("user = nobody\n" if os.geteuid() == 0 else "")  # it refuses to run as root
    )
    assert PGBOUNCER is not None
    process = subprocess.Popen([PGBOUNCER, str(folder / "pgbouncer.ini")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        read_until(process, "process up")  # it listens by then
        threading.Thread(target=process.communicate, daemon=True).start()  # its log must not fill the pipe
        yield target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def through_pgbouncer(pgbouncer: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """This process's engine on the pooler for the test; yields the environment that puts
    a `pipewise` process there too."""
    environment = {"PIPEWISE_DATABASE_URL": pgbouncer, "PIPEWISE_DATABASE_POOLER": "pgbouncer"}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_engine()
    yield environment
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_engine()


def test_api_processes_and_workers_share_a_transaction_pooler(factory, session, through_pgbouncer):  # type: ignore[no-untyped-def]
    token = factory.token(factory.user(role="admin"))
    session.commit()
    with serving(env={**through_pgbouncer, "PIPEWISE_INPROCESS_WORKER": "false"}) as served:
        for client in create_contacts(served.url, token, 200, connections=8):
            client.close()
    log = "".join(served.output)
    assert "Traceback" not in log and "prepared statement" not in log, log

    failures: list[BaseException] = []

    def drain(name: str) -> None:
        try:
            Worker(name=name, batch_size=10).run_until_idle()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    workers = [threading.Thread(target=drain, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=240)
    assert failures == []

    session.rollback()
    assert session.scalar(select(func.count()).select_from(Contact)) == 200
    assert session.scalar(select(func.count()).where(OutboxEvent.processed_at.is_(None))) == 0
    assert session.scalars(select(EventDelivery.last_error)).all() == []
