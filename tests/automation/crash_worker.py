"""Entry point of a worker OS process for the crash test: its own engine (its connections
named after the worker, so the test can see what it has claimed), the real handlers,
working until it is told to stop (or killed). Its webhook calls say which worker sent
them, so the receiver can tell a call in flight when a worker died from a repeated effect.

``PIPEWISE_CRASH_BREAK_IDEMPOTENCY=1`` makes external effects forget that they already
succeeded: the crash test must then fail (how to check that the test can fail)."""

import os

import httpx

from pipewise.config import get_settings
from pipewise.db.session import reset_engine
from tests.automation.receiver import WORKER_HEADER


def _named(database_url: str, name: str) -> str:
    return database_url + ("&" if "?" in database_url else "?") + f"application_name={name}"


def _forget_finished_effects() -> None:
    from pipewise.automation import effects

    real_once = effects.once

    def once(session, *, key, kind, perform):  # type: ignore[no-untyped-def]
        effects._count_attempt(session, key, kind)  # noqa: SLF001
        return perform(1), False

    effects.once = once  # type: ignore[assignment]
    assert real_once is not once


def work(database_url: str, name: str) -> None:
    os.environ["PIPEWISE_DATABASE_URL"] = _named(database_url, name)
    get_settings.cache_clear()
    reset_engine()
    from pipewise import domains
    from pipewise.automation import effects
    from pipewise.worker.runner import Worker

    domains.load()  # the engine's handlers and timers, as `pipewise worker` has them

    effects._client = httpx.Client(timeout=10, headers={WORKER_HEADER: name})  # noqa: SLF001
    if os.environ.get("PIPEWISE_CRASH_BREAK_IDEMPOTENCY") == "1":
        _forget_finished_effects()
    domains.load()  # the real handlers, as the app registers them
    Worker(name=name, batch_size=50).run_forever(poll_seconds=0.05)
