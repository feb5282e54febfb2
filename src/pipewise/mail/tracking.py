"""Signed links in outgoing mail: the open pixel, click redirects and the unsubscribe
link. Tokens are signed with the installation's secret key, so a click link can only
redirect to the URL that was in the e-mail (no open redirect) and an unsubscribe link
only unsubscribes the address it was sent to."""

import re
import uuid
from html import unescape
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape

from pipewise.config import get_settings
from pipewise.mail.settings import get_mail_settings

PIXEL_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=f"pipewise.mail.{purpose}")


def sign(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str) -> dict[str, Any] | None:
    try:
        value = _serializer(purpose).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, dict) else None


def _url(path: str) -> str:
    return get_mail_settings().public_url.rstrip("/") + path


def open_url(message_pk: uuid.UUID) -> str:
    return _url(f"/api/v1/t/open/{sign('open', {'m': str(message_pk)})}.gif")


def click_url(message_pk: uuid.UUID, target: str) -> str:
    return _url(f"/api/v1/t/click/{sign('click', {'m': str(message_pk), 'u': target})}")


def unsubscribe_url(message_pk: uuid.UUID) -> str:
    return _url(f"/api/v1/unsubscribe/{unsubscribe_token(message_pk)}")


UNSUBSCRIBE_SUBJECT = "unsubscribe "


def unsubscribe_token(message_pk: uuid.UUID) -> str:
    return sign("unsubscribe", {"m": str(message_pk)})


def unsubscribe_mailto(message_pk: uuid.UUID, sender_address: str) -> str:
    """``mailto:`` for List-Unsubscribe: a message to it (with the signed token in the
    subject) unsubscribes like the link; inbound processing reads it."""
    to = get_mail_settings().unsubscribe_address or sender_address
    return f"mailto:{to}?subject=unsubscribe%20{unsubscribe_token(message_pk)}"


def decorate(html: str, text: str, *, message_pk: uuid.UUID, track_opens: bool, track_clicks: bool) -> tuple[str, str]:
    """Add tracking (when the mailbox allows it) and the unsubscribe footer."""
    if track_clicks:
        html = _HREF.sub(lambda m: f"{m[1]}{m[2]}{escape(click_url(message_pk, unescape(m[3])))}{m[2]}", html)
    unsubscribe = unsubscribe_url(message_pk)
    html += f'\n<p style="font-size:12px;color:#888">Not interested? <a href="{escape(unsubscribe)}">Unsubscribe</a>.</p>'
    if track_opens:
        html += f'\n<img src="{escape(open_url(message_pk))}" width="1" height="1" alt="" style="display:none">'
    text += f"\n\n--\nNot interested? Unsubscribe: {unsubscribe}\n"
    return html, text
