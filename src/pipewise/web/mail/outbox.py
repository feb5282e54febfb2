"""The local outbox: the .eml files written when no SMTP server is set, each shown to
the people who may read it."""

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import NotFound
from pipewise.mail import ledger
from pipewise.mail.mailboxes import may_send_as
from pipewise.mail.settings import get_mail_settings
from pipewise.mail.transport import outbox_dir
from pipewise.web.common import CurrentUser, DbSession, WebUser, render, web_router

router = web_router()
OUTBOX_LIMIT = 100
EML_NAME = re.compile(r"^[A-Za-z0-9._-]+\.eml$")


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    sender: str
    to: str
    subject: str
    date: datetime | None
    size: int


def _read(path: Path) -> MimeMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def _date(message: MimeMessage) -> datetime | None:
    try:
        return parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        return None


def _visible_to(me: WebUser, session: Session, message: MimeMessage) -> bool:
    """The sender, their team and admins read a message of the ledger; a file the ledger
    does not know is shown to admins and to a user it was sent as."""
    if me.actor.is_admin:
        return True
    row = ledger.by_message_id(session, str(message["Message-ID"] or ""))
    if row is not None:
        return ledger.may_read(session, me.actor, row)
    senders = [address for _name, address in getaddresses([str(message["From"] or "")])]
    return any(may_send_as(session, me.user, address) for address in senders if address)


def _entries(session: Session, me: WebUser) -> list[OutboxEntry]:
    folder = outbox_dir()
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.exists() else []
    entries = []
    for path in files:
        message = _read(path)
        if _visible_to(me, session, message):
            entries.append(OutboxEntry(path.name, str(message["From"] or ""), str(message["To"] or ""), str(message["Subject"] or ""),
                                       _date(message), path.stat().st_size))
        if len(entries) == OUTBOX_LIMIT:
            break
    return entries


@router.get("/mail/outbox")
def outbox(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return render(request, "mail/outbox.html", {"entries": _entries(session, me), "global_smtp": get_mail_settings().smtp_host})


@router.get("/mail/outbox/{name}")
def outbox_message(name: str, request: Request, session: DbSession, me: CurrentUser) -> Response:
    path = outbox_dir() / name
    if not EML_NAME.match(name) or not path.is_file():
        raise NotFound("no such message in the outbox")
    message = _read(path)
    if not _visible_to(me, session, message):
        raise NotFound("no such message in the outbox")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render(request, "mail/message.html", {
        "name": name, "headers": list(message.items()), "subject": str(message["Subject"] or ""),
        "text": text.get_content() if text else "", "html": html.get_content() if html else "",
    })
