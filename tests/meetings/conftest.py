from collections.abc import Iterator

import pytest

from pipewise.config import get_settings
from tests.sequences.support import INBOUND_SECRET, smtp  # noqa: F401 - smtp is a fixture


@pytest.fixture
def inbound_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PIPEWISE_INBOUND_SECRET", INBOUND_SECRET)
    get_settings.cache_clear()
    yield INBOUND_SECRET
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def handlers() -> None:
    from pipewise import domains

    domains.load()
