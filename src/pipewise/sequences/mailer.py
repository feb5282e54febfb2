"""Building MIME messages and handing them to a server.

A transport sends in two phases so the ledger can record the point of no return:
``stage`` does everything up to the end of the DATA body, ``commit`` sends the final
dot. Before the dot the server discards the message if we vanish; after it, the server
has it. With no SMTP server configured, mail goes to .eml files in the outbox folder."""

import email.policy
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from pipewise.config import get_settings
from pipewise.sequences.settings import get_mail_settings


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
    if mail.unsubscribe_url:
        # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" to this URL.
        msg["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg.as_bytes(policy=email.policy.SMTP)


def dot_stuff(data: bytes) -> bytes:
    """The DATA body as SMTP needs it: CRLF line ends, leading dots doubled, final CRLF."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class Transport(Protocol):
    def stage(self, sender: str, recipient: str, data: bytes, *, name: str) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


def _classify(code: int, response: bytes | str, stage: str) -> DeliveryError:
    text = response.decode(errors="replace") if isinstance(response, bytes) else response
    message = f"{stage}: {code} {text}".strip()
    return PermanentFailure(message, code=code) if 500 <= code < 600 else TemporaryFailure(message, code=code)


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        smtp.ehlo()
        if cfg.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if cfg.username:
            smtp.login(cfg.username, cfg.password or "")
        return smtp

    def stage(self, sender: str, recipient: str, data: bytes, *, name: str) -> None:
        try:
            smtp = self._smtp = self._connect()
            code, response = smtp.mail(sender)
            if code != 250:
                raise _classify(code, response, "MAIL FROM")
            code, response = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _classify(code, response, "RCPT TO")
            code, response = smtp.docmd("DATA")
            if code != 354:
                raise _classify(code, response, "DATA")
            smtp.send(dot_stuff(data))
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"login refused: {exc.smtp_code} {exc.smtp_error!r}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTP connection failed: {exc}") from None

    def commit(self) -> None:
        smtp = self._smtp
        if smtp is None:
            raise TemporaryFailure("nothing staged")
        try:
            smtp.send(b".\r\n")
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"connection lost before the final dot: {exc}") from None
        try:
            code, response = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryUncertain(f"no answer after the final dot: {exc}") from None
        if code != 250:
            raise _classify(code, response, "end of DATA")

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

    def close(self) -> None:
        if self._staged is not None:
            self._staged[0].unlink(missing_ok=True)
            self._staged = None


def outbox_dir() -> Path:
    return Path(get_settings().outbox_dir)


def smtp_config(host: str | None, port: int | None, security: str, username: str | None, password: str | None) -> SmtpConfig | None:
    """The mailbox's own server if it has one, else the global one, else None (outbox)."""
    settings = get_mail_settings()
    if host:
        return SmtpConfig(host, port or 587, security, username, password, settings.smtp_timeout_seconds)
    if settings.smtp_host:
        return SmtpConfig(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_timeout_seconds,
        )
    return None


def transport_for(config: SmtpConfig | None) -> Transport:
    return SmtpTransport(config) if config is not None else FileTransport(outbox_dir())
