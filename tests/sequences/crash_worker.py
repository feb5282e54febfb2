"""A worker OS process for the crash test: its own settings and engine, then drain."""

import os

from pipewise import domains
from pipewise.config import get_settings
from pipewise.db.session import reset_engine
from pipewise.mail.settings import get_mail_settings
from pipewise.worker.runner import Worker


def drain(environment: dict[str, str]) -> None:
    os.environ.update(environment)
    get_settings.cache_clear()
    get_mail_settings.cache_clear()
    reset_engine()
    domains.load()
    Worker(name=f"crash-test-{os.getpid()}").run_until_idle()
