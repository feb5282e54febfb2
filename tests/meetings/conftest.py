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


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from pipewise.cli.main import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.fixture
def web(api):  # type: ignore[no-untyped-def]
    from tests.web.conftest import WebClient

    return WebClient(api)
