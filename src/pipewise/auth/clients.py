"""Which address a request came from. ``X-Forwarded-For`` is believed only as far as it
was written by the reverse proxies named in ``PIPEWISE_TRUSTED_PROXIES``: anyone else
can put whatever they like in it. Kept free of web-framework imports: it reads only
``request.client.host`` and ``request.headers``."""

import ipaddress
from functools import lru_cache
from typing import Any, Protocol

from pipewise.config import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class HasClient(Protocol):
    client: Any
    headers: Any


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """Parse the comma-separated setting; a bad entry is a configuration error."""
    networks = []
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"PIPEWISE_TRUSTED_PROXIES: {entry!r} is not an address or CIDR range") from None
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HasClient) -> str | None:
    """The nearest address that is not a trusted proxy: the direct peer, unless it is a
    trusted proxy, then walking ``X-Forwarded-For`` from the right (the end each proxy
    appends to) past every further trusted proxy."""
    peer = request.client.host if request.client else None
    networks = trusted_networks(get_settings().trusted_proxies)
    if peer is None or not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage before the proxies' own entries: stop at the last good one
        address = hop
        if not _is_trusted(hop, networks):
            break
    return address
