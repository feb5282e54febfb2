"""Building MIME messages and handing them to a server.

A transport sends in two phases so the ledger can record the point of no return:
``stage`` does everything up to the end of the DATA body, ``commit`` sends the final
dot. Before the dot the server discards the message if we vanish; after it, the server
has it. An SMTP transport keeps its connection open from one message to the next (a
worker sends a batch over one connection); ``abort`` drops a staged message by closing
the connection, the only way to take back a DATA body. With no SMTP server configured,
mail goes to .eml files in the outbox folder. Nothing outside the mail package opens an
SMTP connection or writes an .eml file."""

import email.policy
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from pipewise import netguard
from pipewise.config import get_settings
from pipewise.mail.settings import get_mail_settings


class DeliveryError(Exception):
    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Try again later (4xx, connection trouble before the final dot)."""


class PermanentFailure(DeliveryError):
    """The server refused the message or the recipient for good (5xx): a bounce."""


class DeliveryUncertain(DeliveryError):
    """The connection broke after the final dot: the server most likely has the message."""


class SetupFailure(TemporaryFailure):
    """Our side of the connection is wrong (TLS, certificate, login, a server that wants
    STARTTLS or a login first): not the recipient's fault, so never a bounce. Retried like
    any temporary failure, and the message says what to fix."""


@dataclass
class OutgoingMail:
    message_id: str
    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    html: str
    text: str
    sent_at: datetime
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    unsubscribe_url: str | None = None
    # mailto: the same unsubscribe by e-mail, for clients that do not POST.
    unsubscribe_mailto: str | None = None
    idempotency_key: str | None = None
    # (file name, content type, bytes)
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    ical: str | None = None


def _ical_method(ical: str) -> str:
    found = re.search(r"^METHOD:(\w+)", ical, re.MULTILINE)
    return found.group(1).upper() if found else "PUBLISH"


def build_mime(mail: OutgoingMail) -> bytes:
    msg = EmailMessage()
    msg["From"] = Address(mail.from_name, addr_spec=mail.from_address)
    msg["To"] = Address(mail.to_name, addr_spec=mail.to_address)
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.sent_at)
    msg["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        msg["References"] = " ".join(mail.references)
    if mail.idempotency_key:
        msg["X-Pipewise-Idempotency-Key"] = mail.idempotency_key
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    if mail.ical:
        # RFC 6047: the calendar inline as an alternative (clients show Accept/Decline)
        # and the same object as an .ics attachment for those that only read files.
        method = _ical_method(mail.ical)
        msg.add_alternative(mail.ical, subtype="calendar", params={"method": method})
        msg.add_attachment(mail.ical.encode(), maintype="application", subtype="ics", filename="invite.ics")
    for filename, content_type, content in mail.attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return _with_raw_headers(msg.as_bytes(policy=email.policy.SMTP), unsubscribe_headers(mail))


def unsubscribe_headers(mail: OutgoingMail) -> list[tuple[str, str]]:
    """RFC 2369 and RFC 8058: ``<https://…>, <mailto:…>`` and the one-click POST marker."""
    if not mail.unsubscribe_url:
        return []
    targets = [mail.unsubscribe_url] + ([mail.unsubscribe_mailto] if mail.unsubscribe_mailto else [])
    return [
        ("List-Unsubscribe", ", ".join(f"<{target}>" for target in targets)),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


def _with_raw_headers(data: bytes, headers: list[tuple[str, str]]) -> bytes:
    """Add ASCII headers exactly as given: the email package would fold a long URL or
    encode it (RFC 2047), and mailbox providers then ignore the header."""
    if not headers:
        return data
    raw = b"".join(f"{name}: {value}".encode("ascii") + b"\r\n" for name, value in headers)
    end = data.index(b"\r\n\r\n") + 2
    return data[:end] + raw + data[end:]


def dot_stuff(data: bytes) -> bytes:
    """The DATA body as SMTP needs it: CRLF line ends, leading dots doubled, final CRLF."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class Transport(Protocol):
    def stage(self, sender: str, recipient: str, data: bytes, *, name: str) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "starttls"  # none | starttls | ssl (implicit TLS)
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    # Check the server's certificate (against ca_file, else the system's CAs). Off only
    # for a self-signed server on a trusted network.
    verify: bool = True
    ca_file: str | None = None
    # A server a user typed into their mailbox (not the operator's): connections go only
    # to addresses netguard allows.
    guarded: bool = False

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.ca_file)
    if not config.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# Replies that mean "not like this" about our connection, not about the recipient:
# 530 authentication or STARTTLS required, 534/538 stronger mechanism or TLS needed,
# 535 credentials invalid.
SETUP_CODES = frozenset({530, 534, 535, 538})


def _classify(code: int, response: bytes | str, stage: str, server: str = "") -> DeliveryError:
    text = response.decode(errors="replace") if isinstance(response, bytes) else response
    message = f"{stage}: {code} {text}".strip()
    if code in SETUP_CODES:
        return SetupFailure(f"{server} wants TLS or a login before it takes mail ({message}); check the SMTP security and login settings", code=code)
    return PermanentFailure(message, code=code) if 500 <= code < 600 else TemporaryFailure(message, code=code)


def _setup_error(config: SmtpConfig, exc: Exception) -> SetupFailure | None:
    """A clear message for the connection set-up errors a person has to fix."""
    server = config.label
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return SetupFailure(f"{server} refused the login of {config.username!r}: {exc.smtp_code} {error}", code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        hint = " (it may offer a login only after STARTTLS)" if "AUTH" in str(exc) and config.security == "none" else ""
        return SetupFailure(f"{server}: {exc}{hint}; check the SMTP security setting")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SetupFailure(
            f"{server}: the TLS certificate is not trusted ({exc.verify_message}); give its CA file "
            "(PIPEWISE_SMTP_CA_FILE), or turn the check off (PIPEWISE_SMTP_TLS_VERIFY=false) for a self-signed local server"
        )
    if isinstance(exc, ssl.SSLError):
        return SetupFailure(f"{server}: TLS handshake failed ({exc}); is the security setting ({config.security}) the one the port speaks?")
    return None


class _CheckedSocket:
    """Connects to an address of the host that netguard allows; TLS still names the host
    (smtplib keeps the name it was given for STARTTLS and implicit TLS)."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        try:
            return netguard.connect(host, port, timeout)
        except ConnectionRefusedError as exc:
            raise SetupFailure(f"{host}:{port}: {exc}") from None


class _GuardedSMTP(_CheckedSocket, smtplib.SMTP):
    pass


class _GuardedSMTPSSL(_CheckedSocket, smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self.context.wrap_socket(super()._get_socket(host, port, timeout), server_hostname=self._host)


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        plain, implicit_tls = (_GuardedSMTP, _GuardedSMTPSSL) if cfg.guarded else (smtplib.SMTP, smtplib.SMTP_SSL)
        if cfg.security == "ssl":
            smtp: smtplib.SMTP = implicit_tls(cfg.host, cfg.port, timeout=cfg.timeout, context=tls_context(cfg))
        else:
            smtp = plain(cfg.host, cfg.port, timeout=cfg.timeout)
        # The body and the final dot go out as two writes; with Nagle's algorithm the dot
        # waits for the server's delayed ACK of the body (40 ms on Linux) on every message.
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        if cfg.security == "starttls":
            smtp.starttls(context=tls_context(cfg))
            smtp.ehlo()
        if cfg.username:
            smtp.login(cfg.username, cfg.password or "")
        return smtp

    def _open(self) -> tuple[smtplib.SMTP, bool]:
        """The connection, and whether it was already open (and so may have gone stale)."""
        if self._smtp is not None:
            return self._smtp, True
        self._smtp = self._connect()
        return self._smtp, False

    def _mail_from(self, sender: str) -> smtplib.SMTP:
        smtp, reused = self._open()
        try:
            code, response = smtp.mail(sender)
        except (OSError, smtplib.SMTPServerDisconnected):
            if not reused:
                raise
            code, response = 421, b"connection closed"
        if code == 421 and reused:  # the server closed an idle connection: one fresh try
            self._drop()
            smtp, _ = self._open()
            code, response = smtp.mail(sender)
        if code != 250:
            raise _classify(code, response, "MAIL FROM", self.config.label)
        return smtp

    def stage(self, sender: str, recipient: str, data: bytes, *, name: str) -> None:
        try:
            smtp = self._mail_from(sender)
            code, response = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _classify(code, response, "RCPT TO", self.config.label)
            code, response = smtp.docmd("DATA")
            if code != 354:
                raise _classify(code, response, "DATA", self.config.label)
            smtp.send(dot_stuff(data))
        except DeliveryError:
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise _setup_error(self.config, exc) or TemporaryFailure(f"SMTP connection to {self.config.label} failed: {exc}") from None

    def commit(self) -> None:
        smtp = self._smtp
        if smtp is None:
            raise TemporaryFailure("nothing staged")
        try:
            smtp.send(b".\r\n")
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TemporaryFailure(f"connection lost before the final dot: {exc}") from None
        try:
            code, response = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryUncertain(f"no answer after the final dot: {exc}") from None
        if code != 250:
            raise _classify(code, response, "end of DATA", self.config.label)

    def abort(self) -> None:
        """Take back a staged message: mid-DATA only closing the connection does that."""
        self._drop()

    def _reset(self) -> None:
        """After a refused command, clear the SMTP transaction so the connection can go on."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


class FileTransport:
    """The local outbox: one .eml file per message, named after its Message-ID, renamed
    into place atomically so a file is either complete or absent."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._staged: tuple[Path, Path] | None = None

    @staticmethod
    def filename(message_id: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", message_id.strip("<>")) + ".eml"

    def stage(self, sender: str, recipient: str, data: bytes, *, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / self.filename(name)
        partial = self.directory / f".{final.name}.{os.getpid()}.part"
        with open(partial, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self._staged = (partial, final)

    def commit(self) -> None:
        if self._staged is None:
            raise TemporaryFailure("nothing staged")
        partial, final = self._staged
        if final.exists():
            partial.unlink(missing_ok=True)
        else:
            os.replace(partial, final)
        self._staged = None

    def abort(self) -> None:
        if self._staged is not None:
            self._staged[0].unlink(missing_ok=True)
            self._staged = None

    def close(self) -> None:
        self.abort()


def outbox_dir() -> Path:
    return Path(get_settings().outbox_dir)


def smtp_config(host: str | None, port: int | None, security: str, username: str | None, password: str | None) -> SmtpConfig | None:
    """The mailbox's own server if it has one, else the global one, else None (outbox)."""
    settings = get_mail_settings()
    trust = {"timeout": settings.smtp_timeout_seconds, "verify": settings.smtp_tls_verify, "ca_file": settings.smtp_ca_file}
    if host:
        return SmtpConfig(host, port or 587, security, username, password, **trust, guarded=True)
    if settings.smtp_host:
        return SmtpConfig(
            settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_username, settings.smtp_password, **trust
        )
    return None


def transport_for(config: SmtpConfig | None) -> Transport:
    return SmtpTransport(config) if config is not None else FileTransport(outbox_dir())


class Transports:
    """The transports a batch of deliveries has open, one per server and login, so the
    batch goes over one connection per server instead of one per message."""

    def __init__(self) -> None:
        self._open: dict[SmtpConfig | None, Transport] = {}

    def for_config(self, config: SmtpConfig | None) -> Transport:
        if config not in self._open:
            self._open[config] = transport_for(config)
        return self._open[config]

    def close(self) -> None:
        for transport in self._open.values():
            transport.close()
        self._open.clear()
