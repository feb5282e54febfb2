import pytest

from pipewise.mail import clock as mail_clock
from pipewise.sequences import clock as sequence_clock
from pipewise.worker import runner
from tests.sequences.support import Clock, smtp  # noqa: F401 - smtp is a fixture


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The sequences' and the worker's time, starting now; tests move it forward."""
    moving = Clock()
    monkeypatch.setattr(sequence_clock, "now", moving.now)
    monkeypatch.setattr(mail_clock, "now", moving.now)
    monkeypatch.setattr(runner, "utcnow", moving.now)
    return moving
