"""A small mailer for automation: RFC 5322 messages written to the local outbox
directory (``settings.outbox_dir``), one file per idempotency key, so a retried step
rewrites nothing. Kept apart so it can move to a shared mail package later."""

import hashlib
import os
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from pipewise.config import get_settings
from pipewise.db.base import utcnow

SENDER = "Pipewise <automation@pipewise.local>"


def message_path(key: str) -> Path:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return Path(get_settings().outbox_dir) / f"{digest}.eml"


def write_message(*, key: str, to: str, subject: str, body: str, sender: str = SENDER) -> Path:
    """Write the message once; a second call with the same key leaves the first in place."""
    path = message_path(key)
    if path.exists():
        return path
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(idstring=hashlib.sha256(key.encode()).hexdigest()[:16], domain="pipewise.local")
    message["X-Pipewise-Idempotency-Key"] = key
    message.set_content(body)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(bytes(message))
    os.replace(partial, path)
    return path
