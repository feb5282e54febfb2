"""Invoices: made from an order (every line, or what was delivered and not yet invoiced)
or from a deal's line items; posted with a number from the gap-free series of the year;
paid in one or more payments; voided only by a credit note, itself a posted invoice of
kind ``credit_note`` that names the original. Nothing posted is edited or deleted."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.billing import numbering, orders
from pipewise.billing.access import deal_for, get_visible, require_manager, visible
from pipewise.billing.events import InvoiceOverdue, InvoicePaid, InvoicePosted, InvoiceVoided
from pipewise.billing.lines import apply_totals, copied
from pipewise.billing.models import ZERO, Invoice, InvoiceLine, OrderLine, Payment
from pipewise.db.base import utcnow
from pipewise.errors import Conflict, ErrorCollector, NotFound, ValidationFailed
from pipewise.events import bus
from pipewise.quotes.models import DealLineItem
from pipewise.quotes.settings import company_settings

INVOICE_SERIES = "invoice"
OVERDUE_ACTION = "billing.overdue_check"
UNPAID = ("posted", "partly_paid")
PAYMENT_METHODS = ("bank_transfer", "card", "cash", "cheque", "direct_debit", "other")


def get(session: Session, invoice_id: uuid.UUID, *, actor: Actor, write: bool = False) -> Invoice:
    return get_visible(session, Invoice, invoice_id, actor, write=write, what="invoice")


def lines_of(session: Session, invoice_id: uuid.UUID) -> list[InvoiceLine]:
    return list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                .order_by(InvoiceLine.position, InvoiceLine.id)))


def payments_of(session: Session, invoice_id: uuid.UUID) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.paid_on, Payment.created_at)))


def credit_notes_of(session: Session, invoice_id: uuid.UUID) -> list[Invoice]:
    return list(session.scalars(select(Invoice).where(Invoice.credit_of_id == invoice_id)))


def list_invoices(
    session: Session, *, actor: Actor, status: str | None = None, deal_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None, limit: int = 100,
) -> list[Invoice]:
    stmt = visible(select(Invoice), Invoice.deal_id, actor)
    if status == "overdue":
        stmt = stmt.where(Invoice.status.in_(UNPAID), Invoice.overdue_at.is_not(None))
    elif status:
        stmt = stmt.where(Invoice.status == status)
    if deal_id:
        stmt = stmt.where(Invoice.deal_id == deal_id)
    if order_id:
        stmt = stmt.where(Invoice.order_id == order_id)
    return list(session.scalars(stmt.order_by(Invoice.created_at.desc(), Invoice.id.desc()).limit(max(1, min(limit, 500)))))


def _new_invoice(session: Session, **values: Any) -> Invoice:
    settings = company_settings(session)
    invoice = Invoice(tax_mode=settings.tax_mode, rounding_mode=settings.rounding_mode, status="draft",
                      payment_terms=settings.payment_terms, **values)
    session.add(invoice)
    session.flush()
    return invoice


def from_order(session: Session, order_id: uuid.UUID, *, actor: Actor, only_delivered: bool = False) -> Invoice:
    """An invoice of what the order has not yet invoiced: every line, or only what was
    delivered. The quantities count as invoiced from the draft on, so two drafts never
    bill the same goods."""
    order = orders.get(session, order_id, actor=actor, write=True)
    if order.status not in ("confirmed", "partly_delivered", "delivered"):
        raise Conflict(f"the order is {order.status}; only a confirmed order can be invoiced")
    billable: list[tuple[OrderLine, Decimal]] = []
    for line in orders.lines_of(session, order.id):
        ceiling = line.delivered_quantity if only_delivered else line.quantity
        if ceiling > line.invoiced_quantity:
            billable.append((line, ceiling - line.invoiced_quantity))
    if not billable:
        raise ValidationFailed.on("only_delivered" if only_delivered else "order_id",
                                  "nothing delivered is left to invoice" if only_delivered else "every line is invoiced already")
    invoice = _new_invoice(session, deal_id=order.deal_id, order_id=order.id, account_id=order.account_id,
                           currency=order.currency)
    invoice.tax_mode, invoice.rounding_mode = order.tax_mode, order.rounding_mode  # the order's prices, its rounding
    new_lines = []
    for line, quantity in billable:
        new_lines.append(InvoiceLine(invoice_id=invoice.id, order_line_id=line.id, **copied(line, quantity=quantity)))
        line.invoiced_quantity += quantity
    session.add_all(new_lines)
    apply_totals(invoice, new_lines)
    session.flush()
    return invoice


def from_deal(session: Session, deal_id: uuid.UUID, *, actor: Actor) -> Invoice:
    """An invoice of a deal's line items, when no quote or order went before."""
    deal = deal_for(session, deal_id, actor, write=True)
    items = list(session.scalars(select(DealLineItem).where(DealLineItem.deal_id == deal.id)
                                 .order_by(DealLineItem.position, DealLineItem.id)))
    if not items:
        raise ValidationFailed.on("deal_id", "the deal has no line items to invoice")
    invoice = _new_invoice(session, deal_id=deal.id, account_id=deal.account_id, currency=deal.currency)
    new_lines = [InvoiceLine(invoice_id=invoice.id, **copied(item)) for item in items]
    session.add_all(new_lines)
    apply_totals(invoice, new_lines)
    session.flush()
    return invoice


def update_draft(session: Session, invoice_id: uuid.UUID, *, actor: Actor, data: dict[str, Any]) -> Invoice:
    invoice = get(session, invoice_id, actor=actor, write=True)
    if invoice.status != "draft":
        raise Conflict(f"invoice {invoice.number} is {invoice.status}: a posted invoice cannot change (issue a credit note)")
    for name in ("notes", "payment_terms", "issue_date"):
        if name in data:
            setattr(invoice, name, data[name])
    session.flush()
    return invoice


def _post(session: Session, invoice: Invoice, *, actor: Actor, today: date) -> None:
    settings = company_settings(session)
    invoice.issue_date = invoice.issue_date or today
    year = invoice.issue_date.year
    invoice.number = numbering.take(session, INVOICE_SERIES, settings.invoice_prefix, year)
    # Numbers follow dates: with the year's counter held, no later-dated invoice can appear.
    latest = session.scalar(select(func.max(Invoice.issue_date)).where(
        Invoice.number.is_not(None), Invoice.id != invoice.id, Invoice.issue_date >= date(year, 1, 1),
        Invoice.issue_date <= date(year, 12, 31)))
    if latest is not None and invoice.issue_date < latest:
        raise ValidationFailed.on("issue_date", f"must not be before {latest.isoformat()}, the date of the last numbered "
                                                "invoice: numbers follow dates")
    if invoice.kind == "invoice":
        invoice.due_date = invoice.issue_date + timedelta(days=settings.invoice_due_days)
        schedule_overdue_check(session, after=utcnow())
    invoice.status, invoice.posted_at = "posted", utcnow()
    session.flush()
    bus.record(session, InvoicePosted(record_id=invoice.id, actor_id=actor.id, deal_id=invoice.deal_id, number=invoice.number,
                                      gross_total=invoice.gross_total, currency=invoice.currency, kind=invoice.kind,
                                      due_date=invoice.due_date.isoformat() if invoice.due_date else None))


def post(session: Session, invoice_id: uuid.UUID, *, actor: Actor) -> Invoice:
    """Give the draft its number and make it final."""
    invoice = get(session, invoice_id, actor=actor, write=True)
    require_manager(actor, "post invoices")
    if invoice.status != "draft":
        raise Conflict(f"invoice {invoice.number} is {invoice.status} already")
    _post(session, invoice, actor=actor, today=utcnow().date())
    return invoice


def record_payment(
    session: Session, invoice_id: uuid.UUID, *, actor: Actor, amount: Decimal, paid_on: date | None = None,
    method: str = "bank_transfer", reference: str | None = None,
) -> Payment:
    invoice = get(session, invoice_id, actor=actor, write=True)
    require_manager(actor, "record payments")
    if invoice.kind != "invoice" or invoice.status not in UNPAID:
        raise Conflict(f"invoice {invoice.number or '(draft)'} is {invoice.status}; payments go on posted invoices")
    errors = ErrorCollector()
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0:
        errors.add("amount", "must be more than zero")
    elif amount > invoice.outstanding:
        errors.add("amount", f"is more than the {invoice.outstanding} {invoice.currency} outstanding")
    if method not in PAYMENT_METHODS:
        errors.add("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    errors.raise_if_any()
    payment = Payment(invoice_id=invoice.id, amount=amount, paid_on=paid_on or utcnow().date(), method=method,
                      reference=reference, actor_id=actor.id)
    session.add(payment)
    invoice.paid_total += amount
    invoice.status = "paid" if invoice.outstanding == 0 else "partly_paid"
    session.flush()
    bus.record(session, InvoicePaid(record_id=invoice.id, actor_id=actor.id, deal_id=invoice.deal_id, number=invoice.number,
                                    gross_total=invoice.gross_total, currency=invoice.currency, amount=amount,
                                    outstanding=invoice.outstanding, status=invoice.status))
    return payment


def credit_note(session: Session, invoice_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Invoice:
    """Void a posted invoice with a credit note of the same lines, posted at once. The
    order's lines may be invoiced again."""
    invoice = get(session, invoice_id, actor=actor, write=True)
    require_manager(actor, "void invoices")
    if invoice.kind != "invoice" or invoice.status not in ("posted", "partly_paid", "paid"):
        raise Conflict(f"invoice {invoice.number or '(draft)'} is {invoice.status}; only a posted invoice can be credited")
    credit = _new_invoice(session, kind="credit_note", credit_of_id=invoice.id, deal_id=invoice.deal_id,
                          order_id=invoice.order_id, account_id=invoice.account_id, currency=invoice.currency,
                          notes=reason or f"Credit note for {invoice.number}")
    credit.tax_mode, credit.rounding_mode = invoice.tax_mode, invoice.rounding_mode
    originals = lines_of(session, invoice.id)
    new_lines = [InvoiceLine(invoice_id=credit.id, order_line_id=line.order_line_id, **copied(line)) for line in originals]
    session.add_all(new_lines)
    apply_totals(credit, new_lines)
    order_line_ids = [line.order_line_id for line in originals if line.order_line_id is not None]
    if order_line_ids:
        quantities = {line.order_line_id: line.quantity for line in originals}
        for order_line in session.scalars(select(OrderLine).where(OrderLine.id.in_(order_line_ids))):
            order_line.invoiced_quantity = max(order_line.invoiced_quantity - quantities[order_line.id], ZERO)
    _post(session, credit, actor=actor, today=utcnow().date())
    invoice.status = "void"
    session.flush()
    bus.record(session, InvoiceVoided(record_id=invoice.id, actor_id=actor.id, deal_id=invoice.deal_id, number=invoice.number,
                                      gross_total=invoice.gross_total, currency=invoice.currency, credit_note_id=credit.id,
                                      credit_note=credit.number))
    return credit


# -- overdue ------------------------------------------------------------------------


def schedule_overdue_check(session: Session, *, after: datetime) -> None:
    """The daily check, at 02:00 UTC the next day; one timer per day (idempotent by key)."""
    run_at = after.replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(days=1)
    bus.schedule(session, key=f"{OVERDUE_ACTION}:{run_at.date().isoformat()}", kind=OVERDUE_ACTION, run_at=run_at)


def mark_overdue(session: Session, *, today: date) -> list[Invoice]:
    """Invoices past their due date and not fully paid, each marked and announced once."""
    stmt = (select(Invoice)
            .where(Invoice.kind == "invoice", Invoice.status.in_(UNPAID), Invoice.due_date < today, Invoice.overdue_at.is_(None))
            .order_by(Invoice.due_date, Invoice.id)
            .with_for_update(skip_locked=True))
    overdue = list(session.scalars(stmt))
    now = utcnow()
    for invoice in overdue:
        invoice.overdue_at = now
        bus.record(session, InvoiceOverdue(record_id=invoice.id, deal_id=invoice.deal_id, number=invoice.number,
                                           gross_total=invoice.gross_total, currency=invoice.currency,
                                           due_date=invoice.due_date.isoformat(), outstanding=invoice.outstanding))
    session.flush()
    return overdue


def run_overdue_check(session: Session, action: Any) -> None:
    """The worker's daily timer: mark what fell overdue, and come back tomorrow while
    posted invoices are still unpaid."""
    mark_overdue(session, today=utcnow().date())
    if session.scalar(select(Invoice.id).where(Invoice.kind == "invoice", Invoice.status.in_(UNPAID),
                                               Invoice.overdue_at.is_(None)).limit(1)):
        schedule_overdue_check(session, after=utcnow())


def by_reference(session: Session, reference: str, *, actor: Actor) -> Invoice:
    """An invoice by its number (INV-2026-000001) or id, as the command line names it."""
    try:
        return get(session, uuid.UUID(reference), actor=actor)
    except ValueError:
        pass
    found = session.scalar(visible(select(Invoice).where(Invoice.number == reference), Invoice.deal_id, actor))
    if found is None:
        raise NotFound(f"no invoice numbered {reference}")
    return found
