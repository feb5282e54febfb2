"""Signed reschedule/cancel links: bound to the meeting and its current nonce, so a link
stops working once the meeting changed (the nonce is renewed on every change)."""

import uuid

from itsdangerous import BadSignature, URLSafeSerializer

from pipewise.config import get_settings
from pipewise.mail.settings import get_mail_settings
from pipewise.meetings.models import Meeting


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="pipewise.meetings.manage")


def token(meeting: Meeting) -> str:
    return _serializer().dumps({"m": meeting.id.hex, "n": meeting.nonce})


def read(value: str) -> tuple[uuid.UUID, str] | None:
    try:
        data = _serializer().loads(value)
        return uuid.UUID(hex=data["m"]), str(data["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def manage_url(meeting: Meeting) -> str:
    return get_mail_settings().public_url.rstrip("/") + f"/book/manage/{token(meeting)}"
