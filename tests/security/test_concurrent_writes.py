"""Concurrent writers on one record: real HTTP clients in threads against a real server.
Every field each writer set survives, the field history chains from one write to the next
and ends at the row, and a write naming a stale version (``If-Match``) is refused."""

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from pipewise.app import create_app
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.records.field_definitions import custom_field_service
from tests.conftest import IS_POSTGRES

WRITERS = 10


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(start_worker=False), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        thread.join(0.05)
    assert server.started, "the app server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def headers(factory, session) -> dict[str, str]:
    for n in range(WRITERS):
        custom_field_service.create(
            session, data={"record_type": "contact", "key": f"f{n}", "label": f"F{n}", "field_type": "text"},
            actor=SYSTEM_ACTOR,
        )
    return factory.headers(factory.user(role="admin"))


def _patch_all_at_once(base: str, headers: dict[str, str], contact_id: str, trial: int) -> list[int]:
    """Ten threads, each with its own client, release their PATCH at the same moment."""
    start = threading.Barrier(WRITERS)
    statuses: list[int] = [0] * WRITERS

    def write(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            start.wait()
            response = client.patch(f"/api/v1/contacts/{contact_id}", json={"custom": {f"f{n}": f"t{trial}-{n}"}})
            statuses[n] = response.status_code

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _check_trials(base: str, headers: dict[str, str], trials: int) -> None:
    with httpx.Client(base_url=base, headers=headers) as client:
        for trial in range(trials):
            contact = client.post("/api/v1/contacts", json={"last_name": f"Shared {trial}"}).json()
            assert _patch_all_at_once(base, headers, contact["id"], trial) == [200] * WRITERS

            row = client.get(f"/api/v1/contacts/{contact['id']}")
            expected = {f"f{n}": f"t{trial}-{n}" for n in range(WRITERS)}
            assert row.json()["custom"] == expected, f"trial {trial} lost values"
            assert row.json()["version"] == 1 + WRITERS
            assert row.headers["etag"] == f'"{1 + WRITERS}"'

            updates = [h for h in client.get(f"/api/v1/contacts/{contact['id']}/history").json() if h["action"] == "updated"]
            assert len(updates) == WRITERS
            values = [h["changes"]["custom"] for h in sorted(updates, key=lambda h: h["id"])]
            assert values[0][0] == {}
            for before, after in zip(values, values[1:], strict=False):
                assert after[0] == before[1], "a write did not start from the previous one"
            assert values[-1][1] == expected


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="row locks under real concurrency need PostgreSQL")
def test_ten_concurrent_writers_keep_every_value_postgres(server, headers):
    _check_trials(server, headers, trials=20)


@pytest.mark.skipif(IS_POSTGRES, reason="the PostgreSQL variant runs 20 trials")
def test_ten_concurrent_writers_keep_every_value_sqlite(server, headers):
    _check_trials(server, headers, trials=3)


class TestIfMatch:
    def test_stale_version_is_refused_current_version_applies(self, server, headers):
        with httpx.Client(base_url=server, headers=headers) as client:
            created = client.post("/api/v1/contacts", json={"last_name": "Versioned"})
            url = f"/api/v1/contacts/{created.json()['id']}"
            first = client.get(url).headers["etag"]

            changed = client.patch(url, json={"title": "CTO"}, headers={"If-Match": first})
            assert changed.status_code == 200, changed.text
            assert changed.headers["etag"] == f'"{changed.json()["version"]}"' != first

            stale = client.patch(url, json={"title": "CEO"}, headers={"If-Match": first})
            assert stale.status_code == 412
            assert stale.headers["content-type"].startswith("application/problem+json")
            assert "changed it since you read it" in stale.json()["detail"]
            assert client.get(url).json()["title"] == "CTO"

            assert client.delete(url, headers={"If-Match": first}).status_code == 412
            assert client.delete(url, headers={"If-Match": changed.headers["etag"]}).status_code == 204
