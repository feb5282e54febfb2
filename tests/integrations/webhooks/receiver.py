"""A real HTTP receiver on loopback that checks every delivery with the reference
``standardwebhooks`` library, as a subscriber's own server would.

It accepts a delivery when any of its secrets verifies the signature (a receiver that
knows only the old or only the new secret during a rotation), records each accepted
``webhook-id`` (a receiver dedupes by it: a repeat is answered 200 and not acted on), and
can be told to answer with another status or be shut down and brought back on its port."""

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    payload: dict[str, Any]
    headers: dict[str, str]


class Receiver:
    def __init__(self, secrets: list[str]) -> None:
        self.secrets = list(secrets)
        self.status = 200  # what to answer a verified delivery
        self.fail_next = 0  # answer this many requests 503 before verifying
        self.fail_once_for_record: str | None = None  # answer 503 to the first delivery about this record
        self.connections = 0
        self.requests = 0
        self.bad_signatures = 0
        self.seen: Counter[str] = Counter()  # verified deliveries, by webhook-id
        self.accepted: list[Delivery] = []  # first verified, answered-2xx delivery of each id, in order
        self.lock = threading.Lock()
        self.port = _free_port()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def verified_by(self, body: bytes, headers: dict[str, str]) -> list[str]:
        """The secrets that verify this delivery (the reference library's check)."""
        good = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            good.append(secret)
        return good

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            if self.fail_once_for_record and json.loads(body)["data"].get("record_id") == self.fail_once_for_record:
                self.fail_once_for_record = None
                return 503
            if not self.verified_by(body, headers):
                self.bad_signatures += 1
                return 401
            webhook_id = headers["webhook-id"]
            self.seen[webhook_id] += 1
            if 200 <= self.status < 300 and webhook_id not in {d.webhook_id for d in self.accepted}:
                self.accepted.append(Delivery(webhook_id, json.loads(body), headers))
            return self.status

    def acted_on(self) -> Counter[str]:
        """How many times each webhook-id was acted on: once, for a receiver that dedupes."""
        return Counter(d.webhook_id for d in self.accepted)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.handle(body, headers)
                answer = b'{"ok":true}' if status < 300 else b'{"error":"not now"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver.lock:
                    receiver.connections += 1
                return True

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_receiver(secrets: list[str] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(secrets or [])
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
