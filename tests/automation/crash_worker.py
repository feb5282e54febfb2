"""Entry point of a worker OS process for the crash test: its own engine, the real
handlers, working until it is told to stop (or killed)."""

import os

from pipewise.config import get_settings
from pipewise.db.session import reset_engine


def work(database_url: str, name: str) -> None:
    os.environ["PIPEWISE_DATABASE_URL"] = database_url
    get_settings.cache_clear()
    reset_engine()
    import pipewise.automation.handlers  # noqa: F401 - registers the engine
    from pipewise.worker.runner import Worker

    Worker(name=name, batch_size=50).run_forever(poll_seconds=0.05)
