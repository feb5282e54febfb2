from collections.abc import Iterator

import pytest

from pipewise.config import get_settings
from pipewise.mail import clock as mail_clock
from pipewise.sequences import clock as sequence_clock
from pipewise.worker import runner
from tests.sequences.support import INBOUND_SECRET, Clock, smtp  # noqa: F401 - smtp is a fixture


@pytest.fixture
def inbound_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The secret the mail gateway signs inbound messages with."""
    monkeypatch.setenv("PIPEWISE_INBOUND_SECRET", INBOUND_SECRET)
    get_settings.cache_clear()
    yield INBOUND_SECRET
    get_settings.cache_clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The sequences' and the worker's time, starting now; tests move it forward."""
    moving = Clock()
    monkeypatch.setattr(sequence_clock, "now", moving.now)
    monkeypatch.setattr(mail_clock, "now", moving.now)
    monkeypatch.setattr(runner, "utcnow", moving.now)
    return moving


@pytest.fixture(autouse=True)
def sequence_handlers() -> None:
    from pipewise import domains

    domains.load()
