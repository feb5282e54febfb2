"""Outbound connections (webhooks, SMTP) never reach the inside.

A host is resolved once and every address it resolves to must be public: loopback,
link-local, private (RFC 1918), unique-local, shared, unspecified, multicast and reserved
addresses are refused, also when written as IPv4-mapped IPv6. The connection is then made
to an address that was checked, so a name cannot resolve to a public address for the
check and to an internal one for the connection. Operators who do need an internal
target list it in ``PIPEWISE_OUTBOUND_ALLOW``: host names (that name, whatever it resolves
to) and addresses or networks in CIDR form.

``check_host`` is the check for any protocol; ``http_client`` gives an httpx client whose
every connection, redirects included, goes through it."""

import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipewise.config import get_settings

if TYPE_CHECKING:
    import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_SETTING = "PIPEWISE_OUTBOUND_ALLOW"


class BlockedAddress(Exception):
    """The host resolves to an address outbound connections may not reach."""


def _allowed() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks = []
    for entry in (item.strip() for item in get_settings().outbound_allow.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return names, networks


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) judged as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def why_internal(address: IPAddress) -> str | None:
    """What kind of internal address this is, or None for a public one."""
    address = _plain(address)
    kinds = (
        ("loopback", address.is_loopback), ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified), ("multicast", address.is_multicast),
        ("private", address.is_private), ("reserved", address.is_reserved),
    )
    for kind, hit in kinds:
        if hit:
            return kind
    return None if address.is_global else "non-public"


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"{host} cannot be resolved ({exc})") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def check_host(host: str, port: int) -> list[str]:
    """The addresses of ``host`` a connection may use; raises BlockedAddress with the
    reason when any address it resolves to is internal and not allowed (a name that
    resolves to both kinds is refused whole)."""
    name = host.strip("[]").lower().rstrip(".")
    names, networks = _allowed()
    addresses = [literal] if (literal := _literal(name)) is not None else _resolve(name, port)
    if name in names:
        return [str(a) for a in addresses]
    for address in addresses:
        kind = why_internal(address)
        if kind is not None and not any(_plain(address) in net or address in net for net in networks):
            shown = host if literal is not None else f"{host} ({address})"
            raise BlockedAddress(
                f"{shown} is a {kind} address; outbound connections may not reach it unless an operator "
                f"lists it in {ALLOW_SETTING}"
            )
    return [str(a) for a in addresses]


def url_problem(url: str) -> str | None:
    """A quick check when a URL is saved: a literal internal address or ``localhost``.
    Names are checked again, after resolution, each time a connection is made."""
    return host_problem(urlsplit(url).hostname or "")


def host_problem(host: str) -> str | None:
    """The save-time check of a host name or address (``url_problem`` for a bare host)."""
    host = host.strip("[]").lower().rstrip(".")
    names, networks = _allowed()
    if not host or host in names:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine; outbound connections may not reach it unless an operator lists it in {ALLOW_SETTING}"
    literal = _literal(host)
    if literal is None or any(_plain(literal) in net or literal in net for net in networks):
        return None
    kind = why_internal(literal)
    if kind is None:
        return None
    return f"{host} is a {kind} address; outbound connections may not reach it unless an operator lists it in {ALLOW_SETTING}"


def connect(host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to an address of ``host`` that ``check_host`` allows (for mail
    protocols; the caller wraps it in TLS naming ``host``). Refusals are OSErrors, which
    callers already report as a failed connection."""
    try:
        addresses = check_host(host, port)
    except BlockedAddress as exc:
        raise ConnectionRefusedError(str(exc)) from None
    return socket.create_connection((addresses[0], port), timeout)


def http_client(timeout: float) -> "httpx.Client":
    """An httpx client that never reaches internal addresses (no proxies from the
    environment, no automatic redirects: a caller that follows one asks this client again)."""
    from pipewise import outbound_http  # httpx loads with the first outbound call, not at start

    return outbound_http.checked_client(timeout, check_host)
