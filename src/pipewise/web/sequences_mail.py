"""Mail pages: my mailbox (who I send as, signature, my own SMTP server, daily cap, send
window, tracking), the local .eml outbox used when no SMTP server is set, and the
suppression list."""

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pipewise.api.deps import DbSession
from pipewise.errors import FieldError, NotFound, ValidationFailed
from pipewise.mail import ledger
from pipewise.mail.mailboxes import mailbox_of, mailbox_service, may_send_as
from pipewise.mail.senders import sender_address_service
from pipewise.mail.settings import get_mail_settings
from pipewise.mail.suppression import suppression_service
from pipewise.mail.transport import outbox_dir
from pipewise.sequences.schemas import MailboxUpdate, SuppressionIn
from pipewise.web.common import CurrentUser, WebUser, flash, redirect, render, web_router
from pipewise.web.sequences_forms import Problems, checked

router = web_router()
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TEXT_FIELDS = ("from_name", "from_address", "signature_html", "signature_text", "smtp_host", "smtp_port", "smtp_security",
               "smtp_username", "smtp_password", "daily_cap", "send_start_hour", "send_end_hour")
MAILBOX_FIELDS = (*TEXT_FIELDS, "send_days", "track_opens", "track_clicks")
REQUIRED = ("from_name", "from_address", "smtp_security", "daily_cap", "send_start_hour", "send_end_hour")
OUTBOX_LIMIT = 100
EML_NAME = re.compile(r"^[A-Za-z0-9._-]+\.eml$")


# -- my mailbox --


def _mailbox_values(session: Session, me: WebUser) -> dict[str, Any]:
    mailbox = mailbox_service.get_for(session, me.id) or mailbox_of(session, me.id)
    values: dict[str, Any] = {name: "" if getattr(mailbox, name) is None else str(getattr(mailbox, name)) for name in TEXT_FIELDS}
    values.update(smtp_password="", send_days=list(mailbox.send_days), track_opens=mailbox.track_opens, track_clicks=mailbox.track_clicks)
    values["has_password"] = bool(mailbox.smtp_password)
    return values


def _mailbox_form(request: Request, session: Session, me: WebUser, values: dict[str, Any], problems: Problems | None = None,
                  status: int = 200) -> Response:
    return render(request, "mail/mailbox.html", {
        "values": values, "problems": problems or Problems(), "days": DAYS, "global_smtp": get_mail_settings().smtp_host,
        "addresses": [a for a in sender_address_service.all(session, actor=me.actor) if a.user_id == me.id],
    }, status_code=status)


@router.get("/mail/mailbox")
def mailbox_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _mailbox_form(request, session, me, _mailbox_values(session, me))


def _read_mailbox(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in TEXT_FIELDS}
    values["send_days"] = [int(d) for d in form.getlist("send_days") if str(d).isdigit()]
    values["track_opens"], values["track_clicks"] = form.get("track_opens") == "on", form.get("track_clicks") == "on"
    data: dict[str, Any] = {name: values[name] or None for name in TEXT_FIELDS if values[name] or name not in REQUIRED}
    data.update(send_days=values["send_days"], track_opens=values["track_opens"], track_clicks=values["track_clicks"])
    if not values["smtp_password"] and values["smtp_host"]:
        del data["smtp_password"]  # left empty: keep the one on file
    return values, data


def _save_mailbox(request: Request, session: Session, me: WebUser, form: FormData) -> Response:
    values, data = _read_mailbox(form)
    values["has_password"] = "smtp_password" not in data
    problems = Problems()
    missing = [FieldError(name, "is required") for name in REQUIRED if not values[name]]
    parsed, errors = checked(MailboxUpdate, data)
    if missing or parsed is None:
        problems.add(missing + errors, MAILBOX_FIELDS)
        return _mailbox_form(request, session, me, values, problems, 422)
    try:
        with session.begin_nested():
            mailbox_service.save(session, data=parsed.model_dump(exclude_unset=True), actor=me.actor)
    except ValidationFailed as exc:
        problems.add(exc.errors or [FieldError("", exc.detail)], MAILBOX_FIELDS)
        return _mailbox_form(request, session, me, values, problems, 422)
    flash(request, "Mailbox saved.")
    return redirect("/mail/mailbox")


@router.post("/mail/mailbox")
async def save_mailbox(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_save_mailbox, request, session, me, await request.form())


def _add_address(request: Request, session: Session, me: WebUser, form: FormData) -> Response:
    address = str(form.get("address") or "").strip()
    try:
        with session.begin_nested():
            sender_address_service.request(session, address=address, user_id=me.id, actor=me.actor)
    except ValidationFailed as exc:
        problems = Problems()
        problems.add(exc.errors or [FieldError("address", exc.detail)], ("address",))
        return _mailbox_form(request, session, me, {**_mailbox_values(session, me), "address": address}, problems, 422)
    flash(request, f"Added {address}." if me.actor.is_admin else f"We e-mailed a confirmation link to {address}.")
    return redirect("/mail/mailbox#sender-addresses")


@router.post("/mail/addresses")
async def add_address(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_add_address, request, session, me, await request.form())


# -- the local outbox --


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


# -- the suppression list --


def _suppressions(request: Request, session: Session, values: dict[str, str] | None = None, problems: Problems | None = None,
                  status: int = 200) -> Response:
    return render(request, "mail/suppressions.html", {
        "rows": suppression_service.all(session), "values": values or {"address": "", "detail": ""}, "problems": problems or Problems(),
    }, status_code=status)


@router.get("/mail/suppressions")
def suppressions(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _suppressions(request, session)


def _add_suppression(request: Request, session: Session, me: WebUser, form: FormData) -> Response:
    values = {"address": str(form.get("address") or "").strip(), "detail": str(form.get("detail") or "").strip()}
    parsed, errors = checked(SuppressionIn, {"address": values["address"], "reason": "manual", "detail": values["detail"] or None})
    problems = Problems()
    if parsed is not None:
        try:
            with session.begin_nested():
                row = suppression_service.add(session, address=parsed.address, reason="manual", detail=parsed.detail, actor=me.actor)
        except ValidationFailed as exc:
            errors = exc.errors
    if errors:
        problems.add(errors, ("address", "detail"))
        return _suppressions(request, session, values, problems, 422)
    flash(request, f"{row.address} will get no more e-mail from any sequence or workflow.")
    return redirect("/mail/suppressions")


@router.post("/mail/suppressions")
async def add_suppression(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_add_suppression, request, session, me, await request.form())


def _remove_suppression(request: Request, session: Session, me: WebUser, form: FormData) -> Response:
    address = str(form.get("address") or "")
    suppression_service.remove(session, address=address, actor=me.actor)
    flash(request, f"{address} may be e-mailed again.")
    return redirect("/mail/suppressions")


@router.post("/mail/suppressions/remove")
async def remove_suppression(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_remove_suppression, request, session, me, await request.form())
