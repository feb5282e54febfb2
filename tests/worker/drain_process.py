"""Entry point of a worker OS process for the concurrency test: its own settings and
engine, two subscribers that log every delivery, then drain until idle."""

import os
from typing import Any

from pipewise.config import get_settings
from pipewise.db.session import reset_engine
from pipewise.events import bus
from pipewise.worker.runner import Worker
from tests.events.support import log_delivery

SUBSCRIBERS = ("alpha", "beta")


def _logger(subscriber: str, worker: str) -> bus.Handler:
    def handler(session: Any, event: bus.Event) -> None:
        log_delivery(session, event.id, subscriber, worker)

    return handler


def drain(database_url: str, worker_name: str, start: Any, batch_size: int) -> None:
    os.environ["PIPEWISE_DATABASE_URL"] = database_url
    get_settings.cache_clear()
    reset_engine()
    for subscriber in SUBSCRIBERS:
        bus.subscribe("*", name=subscriber)(_logger(subscriber, worker_name))
    start.wait(timeout=120)  # both processes are imported and connected before either starts
    Worker(name=worker_name, batch_size=batch_size).run_until_idle()
    reset_engine()
