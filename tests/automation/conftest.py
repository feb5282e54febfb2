from collections.abc import Iterator

import pytest

from pipewise.config import get_settings
from tests.automation.support import clock  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def allow_loopback_receivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The webhook receivers of these tests listen on loopback, which outbound calls may
    reach only when an operator allows it (as here); tests/security checks the refusals."""
    monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("PIPEWISE_OUTBOUND_ALLOW")
    get_settings.cache_clear()
