"""Orders, invoices and stock pages. Actions post a form and come back to the page they
were made on; a refused action shows the page again with its reason and status."""

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.billing import documents, invoices, orders, stock, views
from pipewise.billing.models import INVOICE_STATUSES, ORDER_STATUSES
from pipewise.errors import NotFound, PipewiseError, ValidationFailed
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router

router = web_router()


def _decimal(form: Any, name: str, *, required: bool = True) -> Decimal | None:
    text = str(form.get(name) or "").strip()
    if not text:
        if required:
            raise ValidationFailed.on(name, "is required")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed.on(name, f"{text!r} is not a number") from None
    if not value.is_finite() or abs(value) >= Decimal("1e9"):
        raise ValidationFailed.on(name, "is out of range")
    return value


def _uuid(form: Any, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(form.get(name) or ""))
    except ValueError:
        raise ValidationFailed.on(name, "choose one") from None


def _attempt(session: Session, action: Callable[[], Any], on_error: Callable[[PipewiseError], Response]) -> Any:
    """Run ``action`` in a savepoint: refused, nothing of it stays and the page says why."""
    try:
        with session.begin_nested():
            return action()
    except PipewiseError as exc:
        return on_error(exc)


# -- orders ---------------------------------------------------------------------------


@router.get("/orders")
def order_list(request: Request, session: DbSession, me: CurrentUser, status: str | None = None) -> Response:
    status = status if status in ORDER_STATUSES else None
    rows = orders.list_orders(session, actor=me.actor, status=status, limit=200)
    return render(request, "billing/orders.html", {"orders": rows, "status": status, "statuses": ORDER_STATUSES})


def _order_page(request: Request, session: Session, me: WebUser, order_id: uuid.UUID, error: PipewiseError | None = None) -> Response:
    order = orders.get(session, order_id, actor=me.actor)
    detail = views.order_detail(session, order)
    return render(request, "billing/order.html", {
        "order": order, "lines": detail["lines"], "deliveries": detail["deliveries"],
        "invoices": invoices.list_invoices(session, actor=me.actor, order_id=order.id),
        "error": error,
    }, status_code=error.status if error else 200)


@router.get("/orders/{record_id}")
def order_page(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _order_page(request, session, me, record_id)


@router.post("/orders/{order_id}/{action}")
def order_action(order_id: uuid.UUID, action: str, request: Request, session: DbSession, me: CurrentUser,
                 form: PostedForm) -> Response:
    def run() -> Any:
        if action == "confirm":
            orders.confirm(session, order_id, actor=me.actor)
            return "Order confirmed; stock is reserved."
        if action == "deliver":
            lines = []
            for line in orders.lines_of(session, order_id):
                quantity = _decimal(form, f"qty-{line.id}", required=False)
                if quantity:
                    lines.append(orders.DeliveryLine(line.id, quantity))
            if not lines:
                raise ValidationFailed.on("lines", "enter a quantity to deliver on at least one line")
            note = orders.deliver(session, order_id, actor=me.actor, lines=lines, note=str(form.get("note") or "") or None)
            return f"Delivery note {note.number} written."
        if action == "cancel":
            orders.cancel(session, order_id, actor=me.actor, reason=str(form.get("reason") or "") or None)
            return "Order cancelled; its reservation is released."
        if action == "invoice":
            invoice = invoices.from_order(session, order_id, actor=me.actor, only_delivered=form.get("only_delivered") == "1")
            return invoice
        raise ValidationFailed.on("action", "unknown action")

    result = _attempt(session, run, lambda exc: _order_page(request, session, me, order_id, exc))
    if isinstance(result, Response):
        return result
    if isinstance(result, str):
        flash(request, result)
        return redirect(f"/orders/{order_id}")
    flash(request, "Draft invoice made; check it and post it.")
    return redirect(f"/invoices/{result.id}")


# -- invoices -------------------------------------------------------------------------


@router.get("/invoices")
def invoice_list(request: Request, session: DbSession, me: CurrentUser, status: str | None = None) -> Response:
    statuses = (*INVOICE_STATUSES, "overdue")
    status = status if status in statuses else None
    rows = invoices.list_invoices(session, actor=me.actor, status=status, limit=200)
    return render(request, "billing/invoices.html", {"invoices": rows, "status": status, "statuses": statuses})


def _invoice_page(request: Request, session: Session, me: WebUser, invoice_id: uuid.UUID,
                  error: PipewiseError | None = None) -> Response:
    invoice = invoices.get(session, invoice_id, actor=me.actor)
    detail = views.invoice_detail(session, invoice)
    return render(request, "billing/invoice.html", {
        "invoice": invoice, "detail": detail, "error": error, "today": date.today().isoformat(),
        "methods": invoices.PAYMENT_METHODS,
    }, status_code=error.status if error else 200)


@router.get("/invoices/{record_id}")
def invoice_page(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _invoice_page(request, session, me, record_id)


@router.get("/invoices/{record_id}/documents/{kind}")
def invoice_download(record_id: uuid.UUID, kind: str, request: Request, session: DbSession, me: CurrentUser) -> Response:
    if kind not in documents.FILES:
        raise NotFound("no such document")
    invoice = invoices.get(session, record_id, actor=me.actor)
    name, media_type, content = documents.invoice_file(session, invoice, kind)
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/invoices/{invoice_id}/{action}")
def invoice_action(invoice_id: uuid.UUID, action: str, request: Request, session: DbSession, me: CurrentUser,
                   form: PostedForm) -> Response:
    def run() -> Any:
        if action == "post":
            posted = invoices.post(session, invoice_id, actor=me.actor)
            return posted.id, f"Posted as {posted.number}."
        if action == "payment":
            amount = _decimal(form, "amount")
            paid_on = str(form.get("paid_on") or "")
            try:
                day = date.fromisoformat(paid_on) if paid_on else None
            except ValueError:
                raise ValidationFailed.on("paid_on", "is not a date") from None
            invoices.record_payment(session, invoice_id, actor=me.actor, amount=amount, paid_on=day,  # type: ignore[arg-type]
                                    method=str(form.get("method") or "bank_transfer"),
                                    reference=str(form.get("reference") or "")[:200] or None)
            return invoice_id, "Payment recorded."
        if action == "credit-note":
            credit = invoices.credit_note(session, invoice_id, actor=me.actor, reason=str(form.get("reason") or "")[:2000] or None)
            return credit.id, f"Credit note {credit.number} posted; the invoice is void."
        raise ValidationFailed.on("action", "unknown action")

    result = _attempt(session, run, lambda exc: _invoice_page(request, session, me, invoice_id, exc))
    if isinstance(result, Response):
        return result
    target, message = result
    flash(request, message)
    return redirect(f"/invoices/{target}")


# -- stock ----------------------------------------------------------------------------


def _stock_page(request: Request, session: Session, me: WebUser, error: PipewiseError | None = None,
                values: dict[str, str] | None = None) -> Response:
    return render(request, "billing/stock.html", {
        "levels": stock.levels(session), "moves": stock.moves(session, limit=50), "products": stock.stocked_products(session),
        "error": error, "values": values or {},
    }, status_code=error.status if error else 200)


@router.get("/stock")
def stock_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _stock_page(request, session, me)


@router.post("/stock/{kind}")
def stock_action(kind: str, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    values = {name: str(form.get(name) or "") for name in ("product_id", "quantity", "reason", "low_threshold")}

    def run() -> str:
        product_id = _uuid(form, "product_id")
        reason = values["reason"].strip()[:300]
        if kind == "receipt":
            move = stock.receive(session, product_id=product_id, quantity=_decimal(form, "quantity"),  # type: ignore[arg-type]
                                 reason=reason or None, actor=me.actor)
        elif kind == "adjustment":
            move = stock.adjust(session, product_id=product_id, quantity=_decimal(form, "quantity"),  # type: ignore[arg-type]
                                reason=reason, actor=me.actor)
        elif kind == "threshold":
            stock.set_threshold(session, product_id=product_id, threshold=_decimal(form, "low_threshold", required=False),
                                manager_id=None, actor=me.actor)
            return "Threshold saved."
        else:
            raise ValidationFailed.on("kind", "unknown stock action")
        return f"Stock changed: {move.balance_after.normalize():f} on hand."

    result = _attempt(session, run, lambda exc: _stock_page(request, session, me, exc, values))
    if isinstance(result, Response):
        return result
    flash(request, result)
    return redirect("/stock")
