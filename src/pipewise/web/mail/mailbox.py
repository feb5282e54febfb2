"""My mailbox: who I send as (and the addresses I may use), my signature, my own SMTP
server, the daily cap, the send window and tracking."""

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.errors import FieldError, ValidationFailed
from pipewise.mail.mailboxes import mailbox_of, mailbox_service
from pipewise.mail.schemas import MailboxUpdate
from pipewise.mail.senders import sender_address_service
from pipewise.mail.settings import get_mail_settings
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import Problems, checked

router = web_router()
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TEXT_FIELDS = ("from_name", "from_address", "signature_html", "signature_text", "smtp_host", "smtp_port", "smtp_security",
               "smtp_username", "smtp_password", "daily_cap", "send_start_hour", "send_end_hour")
MAILBOX_FIELDS = (*TEXT_FIELDS, "send_days", "track_opens", "track_clicks")
REQUIRED = ("from_name", "from_address", "smtp_security", "daily_cap", "send_start_hour", "send_end_hour")


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


@router.post("/mail/mailbox")
def save_mailbox(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
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


@router.post("/mail/addresses")
def add_address(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
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

