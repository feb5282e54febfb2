"""Webhook steps cannot reach the inside: loopback, link-local and private addresses are
refused, also behind a DNS name and behind a redirect, unless an operator allows them;
a receiver's answer body never lands in a decision. Real HTTP servers on loopback show
that nothing reached them."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from pipewise import netguard
from pipewise.automation.context import PermanentStepFailure, StepFailed
from pipewise.automation.effects import post_webhook
from pipewise.automation.models import Decision
from pipewise.config import get_settings
from pipewise.crm.service import contact_service
from tests.automation.receiver import running_receiver
from tests.automation.support import MANAGER, drain, make_workflow, only_enrollment


@pytest.fixture
def allow(monkeypatch):
    def set_allowed(value: str) -> None:
        monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", value)
        get_settings.cache_clear()

    yield set_allowed
    monkeypatch.delenv("PIPEWISE_OUTBOUND_ALLOW", raising=False)
    get_settings.cache_clear()


@contextmanager
def http_server(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Iterator[Any]:
    """A loopback server answering every POST with ``status``; it counts the requests."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(self.path)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.hits = hits  # type: ignore[attr-defined]
    server.port = server.server_address[1]  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def post(url: str) -> dict[str, Any]:
    return post_webhook(url=url, payload={"x": 1}, key="k", secret="s", attempt=1)


class TestSendTime:
    def test_loopback_is_refused(self):
        with running_receiver("s") as receiver:
            with pytest.raises(PermanentStepFailure, match="127.0.0.1 is a loopback address"):
                post(receiver.url)
            assert receiver.deliveries == {}

    def test_a_name_resolving_to_loopback_is_refused(self):
        with running_receiver("s") as receiver:
            url = receiver.url.replace("127.0.0.1", "localhost")
            with pytest.raises(PermanentStepFailure, match=r"localhost \(127.0.0.1\) is a loopback address"):
                post(url)
            assert receiver.deliveries == {}

    @pytest.mark.parametrize(("host", "kind"), [
        ("169.254.169.254", "link-local"), ("[fe80::1]", "link-local"), ("10.0.0.7", "private"),
        ("192.168.1.1", "private"), ("172.16.0.1", "private"), ("[fd00::1]", "private"), ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
    ])
    def test_internal_literals_are_refused_before_any_connection(self, host, kind):
        with pytest.raises(PermanentStepFailure, match=f"is a {kind} address"):
            post(f"http://{host}:9/hook")

    def test_a_redirect_to_loopback_is_refused(self, allow):
        with running_receiver("s") as receiver, http_server(307, {"Location": receiver.url}) as first:
            allow("localhost")  # the first hop's name is allowed; the loopback address it sends us to is not
            with pytest.raises(PermanentStepFailure, match="127.0.0.1 is a loopback address"):
                post(f"http://localhost:{first.port}/start")
            assert first.hits == ["/start"]
            assert receiver.deliveries == {}

    def test_the_allow_list_lets_an_internal_target_through(self, allow):
        with running_receiver("s") as receiver:
            allow("10.0.0.0/8, 127.0.0.1/32")
            assert post(receiver.url) == {"status": 200, "attempt": 1}
            allow("localhost")
            assert post(receiver.url.replace("127.0.0.1", "localhost"))["status"] == 200
            assert len(receiver.accepted) == 1 and sum(receiver.deliveries.values()) == 2

    def test_an_allowed_redirect_is_followed(self, allow):
        with running_receiver("s") as receiver, http_server(308, {"Location": receiver.url}) as first:
            allow("127.0.0.1")
            assert post(f"http://127.0.0.1:{first.port}/start")["status"] == 200
            assert receiver.accepted == ["k"]

    def test_the_answer_body_is_never_kept(self, allow):
        with http_server(500, body=b"internal secret: hunter2") as server:
            allow("127.0.0.1")
            with pytest.raises(StepFailed) as caught:
                post(f"http://127.0.0.1:{server.port}/hook")
        assert str(caught.value) == f"POST http://127.0.0.1:{server.port}/hook answered 500"


class TestCheckHost:
    def test_returns_the_addresses_to_connect_to(self, allow):
        assert netguard.check_host("93.184.215.14", 25) == ["93.184.215.14"]
        with pytest.raises(netguard.BlockedAddress, match="loopback"):
            netguard.check_host("localhost", 25)
        allow("localhost")
        assert netguard.check_host("localhost", 25) == ["127.0.0.1"]


class TestInTheEngine:
    def test_a_refused_call_fails_the_step_with_the_reason(self, session, factory, allow):
        """Saved while an operator allowed loopback; refused at send time once that ends."""
        with running_receiver("s") as receiver:
            allow("127.0.0.1")
            wf = make_workflow(session, {"trigger": {"type": "record_updated", "record_type": "contact"},
                                         "steps": [{"id": "hook", "type": "webhook", "url": receiver.url, "secret": "s"}]},
                               actor=MANAGER)
            allow("")
            contact = factory.contact()
            session.commit()
            contact_service.update(session, contact, data={"title": "CFO"}, actor=MANAGER)
            drain(session)
            drain(session)
            assert receiver.deliveries == {}
        assert only_enrollment(session, wf).status == "failed"
        failed = session.scalars(select(Decision).where(Decision.kind == "failed")).one()
        assert "refused: 127.0.0.1 is a loopback address" in failed.message


class TestSaveTime:
    @pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://localhost/x", "http://169.254.169.254/latest",
                                     "http://10.1.2.3/x", "http://[::1]/x", "http://api.localhost/x"])
    def test_internal_urls_get_a_field_error(self, api, factory, url):
        headers = factory.headers(factory.user(role="admin"))
        definition = {"trigger": {"type": "manual", "record_type": "contact"},
                      "steps": [{"id": "hook", "type": "webhook", "url": url}]}
        r = api.post("/api/v1/workflows", json={"name": "Leak", "definition": definition}, headers=headers)
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["field"] == "definition.steps[0].url" and "PIPEWISE_OUTBOUND_ALLOW" in error["message"]

    def test_a_public_url_is_accepted(self, api, factory):
        headers = factory.headers(factory.user(role="admin"))
        definition = {"trigger": {"type": "manual", "record_type": "contact"},
                      "steps": [{"id": "hook", "type": "webhook", "url": "https://hooks.example.com/x"}]}
        assert api.post("/api/v1/workflows", json={"name": "Fine", "definition": definition}, headers=headers).status_code == 201
