"""Real parts for the sequence tests: an SMTP server (aiosmtpd) on loopback that counts
every Message-ID it accepts, a movable clock, and builders for sequences and mailboxes."""

import email
import email.policy
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.mail import gateway
from pipewise.mail.settings import get_mail_settings
from pipewise.sequences.models import Mailbox
from pipewise.sequences.service import sequence_service
from pipewise.worker.runner import Worker

INBOUND_SECRET = "gateway-secret-for-tests"
OPEN_ALL_WEEK = {"send_days": [0, 1, 2, 3, 4, 5, 6], "send_start_hour": 0, "send_end_hour": 24}


@dataclass
class RecordingHandler:
    """Accepts every message and remembers it; ``on_command`` may interfere (crash tests)."""

    messages: list[MimeMessage] = field(default_factory=list)
    # Each message's bytes exactly as they came over the wire (after the DATA command).
    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_command: Callable[[str, Any], None] | None = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]
        self._hook("MAIL", envelope)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        self._hook("RCPT", envelope)
        if address.endswith("@reject.example"):
            return "550 5.1.1 no such user"
        if address.endswith("@later.example"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(envelope.original_content or envelope.content)
        self._hook("DATA", envelope)
        return "250 Message accepted"

    def _hook(self, command: str, envelope: Any) -> None:
        if self.on_command is not None:
            self.on_command(command, envelope)

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(m["Message-ID"] for m in self.messages)

    def to(self, address: str) -> list[MimeMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    @property
    def port(self) -> int:
        return self.controller.port

    def stop(self) -> None:
        self.controller.stop()


class Clock:
    """The time sequences and the worker see: real time plus an offset that tests move
    forward (or pin), so rows stamped with the real time keep their order."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> datetime:
        self.offset += timedelta(**kwargs)
        return self.now()

    def set(self, moment: datetime) -> None:
        self.offset = moment.astimezone(UTC) - datetime.now(UTC)


def gateway_headers(body: bytes, *, secret: str = INBOUND_SECRET, at: float | None = None) -> dict[str, str]:
    """What the mail gateway sends with a raw message (the ``inbound_secret`` fixture sets the secret)."""
    return {gateway.SIGNATURE_HEADER: gateway.sign(secret, int(at if at is not None else time.time()), body)}


def run_worker() -> int:
    return Worker(name="test").run_until_idle()


def mailbox(session, user, **kw: Any) -> Mailbox:  # type: ignore[no-untyped-def]
    row = Mailbox(user_id=user.id, from_name=user.name, from_address=user.email, **{**OPEN_ALL_WEEK, **kw})
    session.add(row)
    session.flush()
    return row


def email_step(subject: str, body: str, *, delay_days: int = 0, business_days: bool = False, **kw: Any) -> dict[str, Any]:
    return {
        "kind": "auto_email",
        "delay_days": delay_days,
        "business_days": business_days,
        "variants": [{"label": "A", "subject": subject, "body_html": body}],
        **kw,
    }


def live_sequence(session, name: str, steps: list[dict[str, Any]], **kw: Any):  # type: ignore[no-untyped-def]
    sequence = sequence_service.create(session, data={"name": name, "steps": steps, **kw}, actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    session.flush()
    return sequence


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, set as the global SMTP server."""
    server = SmtpServer().start()
    monkeypatch.setenv("PIPEWISE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PIPEWISE_SMTP_PORT", str(server.port))
    monkeypatch.setenv("PIPEWISE_SMTP_SECURITY", "none")
    get_mail_settings.cache_clear()
    yield server
    server.stop()
    get_mail_settings.cache_clear()
