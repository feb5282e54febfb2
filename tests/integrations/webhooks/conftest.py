from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from pipewise.config import get_settings
from pipewise.integrations.webhooks import delivery, service
from pipewise.worker.runner import Worker
from tests.automation.support import Clock
from tests.integrations.webhooks.receiver import Receiver, running_receiver


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The receivers listen on loopback, which an operator must allow (as here); the
    refusal test takes the permission away again."""
    monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The worker's clock (and the webhook code's): moved by the tests, never slept on."""
    from datetime import UTC, datetime

    from pipewise.worker import runner

    fake = Clock(datetime.now(UTC).replace(microsecond=0))
    for module in (delivery, service, runner):
        monkeypatch.setattr(module, "utcnow", fake)
    return fake


@pytest.fixture
def admin(factory: Any, session: Session) -> Any:
    user = factory.user(role="admin", name="Ada Admin")
    session.commit()
    return user


@pytest.fixture
def admin_headers(factory: Any, admin: Any) -> dict[str, str]:
    return factory.headers(admin)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def drain(session: Session) -> int:
    """Commit what the test arranged and run the worker until nothing is due."""
    session.commit()
    handled = Worker(name="test").run_until_idle()
    session.expire_all()
    return handled


def subscribe(api: Any, headers: dict[str, str], receiver: Receiver, **fields: Any) -> dict[str, Any]:
    """An endpoint for ``receiver`` made through the API; the receiver learns its secret."""
    response = api.post("/api/v1/webhooks", headers=headers, json={"url": receiver.url, "event_types": ["account.*"],
                                                                   **fields})
    assert response.status_code == 201, response.text
    endpoint = response.json()
    receiver.secrets.append(endpoint["secret"])
    return endpoint
