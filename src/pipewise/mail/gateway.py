"""The mail gateway's credential for handing inbound messages over: an HMAC-SHA256
signature of the request, made with the shared ``PIPEWISE_INBOUND_SECRET``, in
``X-Pipewise-Signature: t=<unix seconds>,v1=<hex HMAC of "<t>." + body>``. A signature
older (or newer) than the window is refused, so a captured request cannot be replayed
later; inside the window a replay is a message already processed (same Message-ID)."""

import hashlib
import hmac
import time

from pipewise.config import get_settings

SIGNATURE_HEADER = "X-Pipewise-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def refusal(header: str | None, body: bytes, *, now: float | None = None) -> str | None:
    """Why the request is not from the gateway, or None when its signature holds."""
    settings = get_settings()
    if not settings.inbound_secret:
        return "inbound e-mail is not set up: the operator sets PIPEWISE_INBOUND_SECRET and gives it to the mail gateway"
    if not header:
        return f"sign the request with the gateway secret in the {SIGNATURE_HEADER} header"
    parts = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return f"the {SIGNATURE_HEADER} header has no valid t=<unix seconds>"
    if abs((now if now is not None else time.time()) - timestamp) > settings.inbound_window_seconds:
        return "the signature's time is outside the accepted window"
    if not hmac.compare_digest(sign(settings.inbound_secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}"):
        return "the signature does not match"
    return None
