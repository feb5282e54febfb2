import pytest

from pipewise.mail import clock as mail_clock
from pipewise.privacy import retention
from pipewise.sequences import clock as sequence_clock
from pipewise.worker import runner
from tests.sequences.support import Clock, smtp  # noqa: F401 - smtp is a fixture


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The sequences', the retention rules' and the worker's time, starting now; tests move it forward."""
    moving = Clock()
    monkeypatch.setattr(sequence_clock, "now", moving.now)
    monkeypatch.setattr(mail_clock, "now", moving.now)
    monkeypatch.setattr(runner, "utcnow", moving.now)
    # The next daily run is planned from the retention module's time: on the real time, a
    # test that starts in the hour before the run saw the moved worker run it twice.
    monkeypatch.setattr(retention, "utcnow", moving.now)
    return moving


@pytest.fixture
def data_dir(tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Exports are written under the data folder: a fresh one per test."""
    from pipewise.config import get_settings

    monkeypatch.setenv("PIPEWISE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
