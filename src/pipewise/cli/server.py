"""`pipewise serve` and `pipewise worker`: the long-running processes."""

import ipaddress
import logging
import os
import signal

import typer
import uvicorn
from sqlalchemy import select

from pipewise.auth.models import User
from pipewise.cli.output import err, out
from pipewise.config import BUILTIN_SECRET_KEY, get_settings
from pipewise.db.session import session_scope
from pipewise.demo.config import DEMO_ADMIN_EMAIL, demo_password
from pipewise.people.service import verify_password
from pipewise.worker.runner import Worker


def _demo_login() -> str | None:
    """The demo admin's log-in, if that account still has the demo password."""
    with session_scope(write=False) as session:
        password_hash = session.scalar(select(User.password_hash).where(User.email == DEMO_ADMIN_EMAIL))
    password = demo_password()
    return f"{DEMO_ADMIN_EMAIL} / {password}" if verify_password(password_hash, password) else None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _refuse_public_builtin_key(host: str, secret_key: str) -> None:
    if secret_key == BUILTIN_SECRET_KEY and not is_loopback(host):
        err.print(
            f"[red]Refusing to listen on {host} with the built-in secret key[/]: anyone could forge a log-in. "
            "Unset PIPEWISE_SECRET_KEY (a random key is then generated into the data folder) "
            "or set it to a long random value."
        )
        raise typer.Exit(2)


def _refuse_processes_on_sqlite(workers: int, is_sqlite: bool) -> None:
    if workers > 1 and is_sqlite:
        err.print(
            f"[red]--workers {workers} needs PostgreSQL[/]: SQLite lets one process write at a time, so further "
            "API processes queue for its lock instead of adding throughput. Serve with one process, or set "
            "PIPEWISE_DATABASE_URL to a PostgreSQL database (docs/scaling.md)."
        )
        raise typer.Exit(2)


def serve(
    host: str | None = typer.Option(None, help="Interface to listen on [default: PIPEWISE_HOST or 127.0.0.1]."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port [default: PIPEWISE_PORT or 8000]."),
    workers: int | None = typer.Option(
        None, min=1, help="API processes sharing the port; more than one needs PostgreSQL [default: PIPEWISE_SERVE_WORKERS or 1]."
    ),
) -> None:
    """Serve the web UI and the API (and, on SQLite, the worker in the same process)."""
    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.serve_workers
    _refuse_public_builtin_key(host, settings.secret_key)
    _refuse_processes_on_sqlite(workers, settings.is_sqlite)
    out.print(f"Pipewise on [bold]http://{host}:{port}[/]  (API docs at /api/docs)")
    login = _demo_login()
    if login:
        out.print(f"Demo login: [bold]{login}[/]")
    background = None
    if settings.run_inprocess_worker and workers > 1:
        # One worker for all of them, here in the supervising process; the API processes
        # inherit this environment and so start none of their own.
        os.environ["PIPEWISE_INPROCESS_WORKER"] = "false"
        background = Worker()
        thread = background.start_in_thread(poll_seconds=settings.worker_poll_seconds)
        out.print(f"[dim]{workers} API processes; the background worker runs in the supervising process.[/]")
    elif settings.run_inprocess_worker:
        out.print("[dim]The background worker runs inside this process.[/]")
    elif workers > 1:
        out.print(f"[dim]{workers} API processes; run `pipewise worker` for the background work.[/]")
    try:
        # Forwarded headers are read by the app, for trusted proxies only (PIPEWISE_TRUSTED_PROXIES).
        uvicorn.run(
            "pipewise.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            proxy_headers=False,
        )
    finally:
        if background is not None:
            background.stop()
            thread.join(timeout=30)


def worker(
    once: bool = typer.Option(False, "--once", help="Handle what is due now, then exit."),
    poll: float | None = typer.Option(
        None, min=0.05, help="Seconds to wait when idle [default: PIPEWISE_WORKER_POLL_SECONDS or 0.5]."
    ),
) -> None:
    """Deliver events to their subscribers and run due scheduled actions.

    Run as many as you like against PostgreSQL; they share the work. SIGTERM or Ctrl-C
    stops a worker after its current batch."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = Worker()
    if once:
        handled = runner.run_until_idle()
        out.print(f"Handled {handled} item(s).")
        return

    def stop(signum: int, _frame: object) -> None:
        err.print(f"[dim]{signal.Signals(signum).name}: finishing the current batch, then stopping.[/]")
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.run_forever(poll_seconds=poll or get_settings().worker_poll_seconds)
