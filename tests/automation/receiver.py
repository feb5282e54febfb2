"""A real HTTP endpoint for webhook steps: it checks each signature, acts on each
idempotency key once (a repeat is answered 200 and not acted on again, as a receiver
honouring the key does) and records every delivery in arrival order with the worker that
sent it, so a test can explain each repeat or call it a duplicated effect."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipewise.automation.effects import KEY_HEADER, SIGNATURE_HEADER, verify_signature

WORKER_HEADER = "X-Pipewise-Test-Worker"


@dataclass(frozen=True)
class Delivery:
    key: str
    worker: str


class Receiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.deliveries: Counter[str] = Counter()  # every request, by key
        self.log: list[Delivery] = []  # every request, in arrival order
        self.accepted: list[str] = []  # keys acted on (first delivery of each)
        self.bodies: dict[str, Any] = {}
        self.bad_signatures = 0
        self.fail_next = 0  # answer this many requests with 503
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, key: str, signature: str, body: bytes, worker: str = "") -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            if not verify_signature(self.secret, signature, body):
                self.bad_signatures += 1
                return 401
            self.deliveries[key] += 1
            self.log.append(Delivery(key, worker))
            if self.deliveries[key] == 1:
                self.accepted.append(key)
                self.bodies[key] = json.loads(body)
            return 200

    def unexplained_repeats(self, killed: set[str]) -> dict[str, list[str]]:
        """Keys delivered more than once where an earlier delivery was not the call in
        flight when its worker was killed (that worker's last delivery): duplicated
        effects, by key, with the workers that delivered them."""
        last_of: dict[str, str] = {}
        for delivery in self.log:
            last_of[delivery.worker] = delivery.key
        by_key: dict[str, list[str]] = {}
        for delivery in self.log:
            by_key.setdefault(delivery.key, []).append(delivery.worker)
        return {
            key: workers for key, workers in by_key.items()
            if any(w not in killed or last_of[w] != key for w in workers[:-1])
        }


@contextmanager
def running_receiver(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle(self.headers.get(KEY_HEADER, ""), self.headers.get(SIGNATURE_HEADER, ""), body,
                                     self.headers.get(WORKER_HEADER, ""))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
