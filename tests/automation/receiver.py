"""A real HTTP endpoint for webhook steps: it checks each signature and counts every
idempotency key it receives, answering a repeat with 200 without acting twice."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipewise.automation.effects import KEY_HEADER, SIGNATURE_HEADER, verify_signature


class Receiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.deliveries: Counter[str] = Counter()  # every request, by key
        self.accepted: list[str] = []  # keys acted on (first delivery of each)
        self.bodies: dict[str, Any] = {}
        self.bad_signatures = 0
        self.fail_next = 0  # answer this many requests with 503
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, key: str, signature: str, body: bytes) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            if not verify_signature(self.secret, signature, body):
                self.bad_signatures += 1
                return 401
            self.deliveries[key] += 1
            if self.deliveries[key] == 1:
                self.accepted.append(key)
                self.bodies[key] = json.loads(body)
            return 200


@contextmanager
def running_receiver(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle(self.headers.get(KEY_HEADER, ""), self.headers.get(SIGNATURE_HEADER, ""), body)
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
