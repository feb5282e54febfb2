"""The httpx client of ``netguard.http_client``: every connection it makes, redirects
included, goes to an address that the given check (``netguard.check_host``) allowed. A
module of its own so that httpx and httpcore (about 6 MB) load with the first outbound
request, not at start."""

import ssl
from collections.abc import Callable
from typing import Any

import certifi
import httpcore
import httpx

# A host and port → the addresses a connection may use; raises if none may be.
HostCheck = Callable[[str, int], list[str]]


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to addresses ``check`` allowed; TLS still names the host."""

    def __init__(self, check: HostCheck) -> None:
        self.check = check

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **kw: Any) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.check(host, port):
            try:
                return super().connect_tcp(address, port, timeout, **kw)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address of {host} answered")


class _CheckedTransport(httpx.HTTPTransport):
    def __init__(self, check: HostCheck) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()), network_backend=_CheckedBackend(check)
        )


def checked_client(timeout: float, check: HostCheck) -> httpx.Client:
    return httpx.Client(transport=_CheckedTransport(check), timeout=timeout, follow_redirects=False, trust_env=False)
