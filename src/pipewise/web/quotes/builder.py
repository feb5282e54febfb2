"""The quote builder: a quote's lines in a form whose totals the server computes on every
change (``/preview``, swapped in by htmx), saved in one go; its details, its approvals,
its revisions, and the place where sending plugs in."""

import uuid
from datetime import date
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import PreconditionFailed, ValidationFailed
from pipewise.quotes import money
from pipewise.quotes.approvals import PENDING, approval_service
from pipewise.quotes.line_items import money_lines
from pipewise.quotes.service import is_frozen, may_send, quote_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.quotes.common import line_messages, products, read_lines

router = web_router()
BLANK_ROWS = 2


def quote_page(request: Request, session: Session, me: WebUser, quote_id: uuid.UUID, *, problems: list[str] | None = None,
               typed_lines: list[dict[str, Any]] | None = None, status: int = 200) -> Response:
    quote, lines = quote_service.with_lines(session, quote_id, actor=me.actor)
    approvals = approval_service.of_quote(session, quote.id)
    pending = next((a for a in approvals if a.status == PENDING), None)
    may_decide = pending is not None and me.actor.is_manager and (pending.requested_by_id != me.id or me.actor.is_admin)
    rows = typed_lines if typed_lines is not None else [
        {c: getattr(line, c) for c in ("product_id", "name", "quantity", "unit_price", "discount_percent", "tax_rate",
                                       "optional", "selected", "net_amount")} for line in lines]
    rounding = money.Rounding(quote.currency, quote.tax_mode, quote.rounding_mode)
    return render(request, "quotes/detail.html", {
        "quote": quote, "rows": rows, "blank_rows": BLANK_ROWS, "products": products(session, me.actor),
        "editable": not is_frozen(quote), "sendable": may_send(quote), "approvals": approvals, "pending": pending,
        "may_decide": may_decide, "problems": problems or [], "rounding": rounding,
        "totals": money.totals(money_lines([line for line in lines if line.selected or not line.optional]), rounding),
        "max_discount": quote.max_discount_percent,
    }, status_code=status)


@router.get("/quotes/{quote_id}")
def quote_detail(quote_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return quote_page(request, session, me, quote_id)


@router.post("/quotes/{quote_id}/preview")
def preview(quote_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    """The totals of the lines as typed, for the builder to show (nothing is saved)."""
    lines, errors = read_lines(form)
    context: dict[str, Any] = {"problems": line_messages(errors), "quote_id": quote_id}
    if not errors:
        try:
            result = quote_service.preview_quote(session, quote_id, lines, actor=me.actor)
        except ValidationFailed as exc:
            context["problems"] = line_messages(exc.errors) or [exc.detail]
        else:
            nets = [(typed["row"], priced["net_amount"]) for typed, priced in zip(lines, result.lines, strict=True)]
            context.update(totals=result.totals, rounding=result.rounding, nets=nets, max_discount=result.max_discount)
    return render(request, "quotes/_totals.html", context)


@router.post("/quotes/{quote_id}/lines")
def save_lines(quote_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    lines, errors = read_lines(form)
    problems = line_messages(errors)
    if not problems:
        version = str(form.get("version") or "")
        try:
            with session.begin_nested():
                quote = quote_service.set_lines(session, quote_id, lines, actor=me.actor,
                                                expected_version=int(version) if version.isdigit() else None)
        except ValidationFailed as exc:
            problems = line_messages(exc.errors) or [exc.detail]
        except PreconditionFailed as exc:
            problems = [exc.detail]
    if problems:
        return quote_page(request, session, me, quote_id, problems=problems, typed_lines=lines, status=422)
    if quote.status == "pending_approval":
        flash(request, "Saved. The discount is above your limit: a manager has been asked to approve it.", "error")
    else:
        flash(request, "Saved.")
    return redirect(f"/quotes/{quote_id}")


@router.post("/quotes/{quote_id}/details")
def save_details(quote_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    data: dict[str, Any] = {"title": str(form.get("title") or "").strip(), "terms": str(form.get("terms") or "").strip() or None}
    problems: list[str] = []
    valid_until = str(form.get("valid_until") or "")
    try:
        data["valid_until"] = date.fromisoformat(valid_until) if valid_until else None
    except ValueError:
        problems.append("Valid until: is not a date")
    if not problems:
        try:
            with session.begin_nested():
                quote = quote_service.get(session, quote_id, actor=me.actor, write=True)
                quote_service.update(session, quote, data=data, actor=me.actor)
        except ValidationFailed as exc:
            problems = line_messages(exc.errors) or [exc.detail]
    if problems:
        return quote_page(request, session, me, quote_id, problems=problems, status=422)
    flash(request, "Details saved.")
    return redirect(f"/quotes/{quote_id}")


@router.post("/quotes/{quote_id}/revise")
def revise(quote_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    new = quote_service.revise(session, quote_id, actor=me.actor)
    session.flush()
    flash(request, f"Revision {new.revision} of {new.number} is a draft; the previous one is superseded.")
    return redirect(f"/quotes/{new.id}")
