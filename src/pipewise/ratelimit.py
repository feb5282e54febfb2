"""A sliding-minute request limit per caller, kept in this process's memory (public pages,
the MCP server)."""

import threading
import time
from collections import deque


class RateLimit:
    """At most ``per_minute`` requests per client address in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def retry_after(self, address: str | None) -> int | None:
        key, now = address or "?", time.monotonic()
        with self.lock:
            if len(self.hits) > 50_000:
                self.hits.clear()
            hits = self.hits.setdefault(key, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, int(hits[0] + 60 - now) + 1)
            hits.append(now)
            return None
