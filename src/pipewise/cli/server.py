"""`pipewise serve` and `pipewise worker`: the long-running processes."""

import gc
import ipaddress
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from typing import Any

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
    host: str | None = typer.Option(None, help="Interface to listen on (default: PIPEWISE_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default: PIPEWISE_PORT or 8000)."),
    workers: int | None = typer.Option(
        None, min=1, help="API processes sharing the port; more than one needs PostgreSQL (default: PIPEWISE_SERVE_WORKERS or 1)."
    ),
    access_log: bool = typer.Option(True, help="Log every request (off when a reverse proxy logs them)."),
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
    # Forwarded headers are read by the app, for trusted proxies only (PIPEWISE_TRUSTED_PROXIES).
    config = {"host": host, "port": port, "log_level": "info", "access_log": access_log, "proxy_headers": False}
    try:
        if workers == 1:
            uvicorn.run(APP, factory=True, **config)  # type: ignore[arg-type]
        elif (status := _run_processes(workers, config)) != 0:
            raise typer.Exit(status)
    finally:
        if background is not None:
            background.stop()
            thread.join(timeout=30)


# -- several API processes --
#
# uvicorn's own `workers=` shares one listening socket, and whichever process wakes first
# accepts every connection waiting: eight keep-alive connections opened together all went
# to one process (measured: a 100 %/0 % split, no gain from the second). Here each process
# listens on a socket of its own in the port's SO_REUSEPORT group, and the kernel spreads
# new connections over them.

APP = "pipewise.app:create_app"
_STARTUP_FAILURE = 3  # uvicorn's exit status when the app cannot start


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    return sock


def _api_process(config: dict[str, Any]) -> None:
    """One API process (started by spawn). Its own process group: Ctrl-C in a terminal
    reaches only the supervisor, which stops every process once."""
    os.setpgrp()
    server = uvicorn.Server(uvicorn.Config(APP, factory=True, **config))
    server.run(sockets=[_listening_socket(config["host"], config["port"])])
    if not server.started:
        sys.exit(_STARTUP_FAILURE)


def _run_processes(count: int, config: dict[str, Any]) -> int:
    """Run ``count`` API processes until SIGINT or SIGTERM, replacing any that ends;
    returns the exit status."""
    if not hasattr(socket, "SO_REUSEPORT"):
        err.print("[red]Several API processes need SO_REUSEPORT[/] (Linux, BSD); run one per port behind a proxy instead.")
        return 2
    try:
        reserved = _listening_socket(config["host"], config["port"])  # a port in use fails here, once
    except OSError as exc:
        err.print(f"[red]Cannot listen on {config['host']}:{config['port']}[/]: {exc.strerror}")
        return 1
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> "multiprocessing.process.BaseProcess":
        process = context.Process(target=_api_process, args=(config,), name="pipewise-api")
        process.start()
        return process

    handlers = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(count)]
    status = 0
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(processes):
                if process.is_alive() or stopping.is_set():
                    continue
                if process.exitcode == _STARTUP_FAILURE:
                    err.print("[red]An API process could not start[/] (see above); stopping the others.")
                    status = _STARTUP_FAILURE
                    stopping.set()
                    break
                err.print(f"[yellow]API process {process.pid} ended ({process.exitcode}); starting another.[/]")
                processes[i] = start()
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        reserved.close()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return status


def worker(
    once: bool = typer.Option(False, "--once", help="Handle what is due now, then exit."),
    poll: float | None = typer.Option(
        None, min=0.05, help="Seconds to wait when idle (default: PIPEWISE_WORKER_POLL_SECONDS or 0.5)."
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
    # What start-up loaded lives as long as the process: frozen, it is not walked by every
    # full pass of the cyclic garbage collector, which a batch's many objects set off
    # often (about a tenth of the worker's time per routed lead; the API freezes its own).
    gc.freeze()
    runner.run_forever(poll_seconds=poll or get_settings().worker_poll_seconds)
