"""`pipewise billing …`: orders, invoices and stock from the terminal, as the operator
(the system: every record, every right)."""

from datetime import date
from decimal import Decimal, InvalidOperation

import typer
from rich.table import Table

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing import invoices, orders, stock
from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed

billing_app = typer.Typer(help="Orders, invoices and stock.", no_args_is_help=True)


def _decimal(text: str, name: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationFailed.on(name, f"{text!r} is not a number") from None


@billing_app.command("orders")
def list_orders(status: str | None = typer.Option(None, help="draft, confirmed, partly_delivered, delivered, cancelled"),
                limit: int = typer.Option(50, min=1, max=500)) -> None:
    """List orders, newest first, with status and total."""
    with session_scope(write=False) as session:
        table = Table("Number", "Status", "Total", "Created")
        for order in orders.list_orders(session, actor=SYSTEM_ACTOR, status=status, limit=limit):
            table.add_row(order.number, order.status, f"{order.gross_total} {order.currency}", f"{order.created_at:%Y-%m-%d}")
        out.print(table)


@billing_app.command("confirm")
def confirm(order: str = typer.Argument(..., help="order number or id")) -> None:
    """Confirm an order, reserving its stock."""
    with session_scope() as session:
        found = orders.confirm(session, orders.by_reference(session, order, actor=SYSTEM_ACTOR).id, actor=SYSTEM_ACTOR)
        out.print(f"{found.number} is confirmed; its stock is reserved.")


@billing_app.command("deliver")
def deliver(order: str = typer.Argument(..., help="order number or id")) -> None:
    """Deliver everything still open on an order (one delivery note)."""
    with session_scope() as session:
        note = orders.deliver(session, orders.by_reference(session, order, actor=SYSTEM_ACTOR).id, actor=SYSTEM_ACTOR)
        out.print(f"Delivery note {note.number} written.")


@billing_app.command("invoices")
def list_invoices(status: str | None = typer.Option(None, help="draft, posted, partly_paid, paid, void or overdue"),
                  limit: int = typer.Option(50, min=1, max=500)) -> None:
    """List invoices, newest first, with status, total and what is outstanding."""
    with session_scope(write=False) as session:
        table = Table("Number", "Kind", "Status", "Total", "Outstanding", "Due")
        for invoice in invoices.list_invoices(session, actor=SYSTEM_ACTOR, status=status, limit=limit):
            table.add_row(invoice.number or "(draft)", invoice.kind, invoice.status, f"{invoice.gross_total} {invoice.currency}",
                          f"{invoice.outstanding}", f"{invoice.due_date or ''}")
        out.print(table)


@billing_app.command("post")
def post(invoice: str = typer.Argument(..., help="the draft's id")) -> None:
    """Post a draft invoice: it takes the next number of the year."""
    with session_scope() as session:
        posted = invoices.post(session, invoices.by_reference(session, invoice, actor=SYSTEM_ACTOR).id, actor=SYSTEM_ACTOR)
        out.print(f"Posted as {posted.number}, due {posted.due_date}.")


@billing_app.command("pay")
def pay(invoice: str = typer.Argument(..., help="invoice number or id"), amount: str = typer.Argument(...),
        method: str = typer.Option("bank_transfer"), reference: str | None = typer.Option(None),
        paid_on: str | None = typer.Option(None, help="YYYY-MM-DD (default: today)")) -> None:
    """Record a payment on a posted invoice."""
    with session_scope() as session:
        found = invoices.by_reference(session, invoice, actor=SYSTEM_ACTOR)
        invoices.record_payment(session, found.id, actor=SYSTEM_ACTOR, amount=_decimal(amount, "amount"), method=method,
                                reference=reference, paid_on=date.fromisoformat(paid_on) if paid_on else None)
        out.print(f"{found.number}: {found.status}, {found.outstanding} {found.currency} outstanding.")


@billing_app.command("overdue")
def overdue() -> None:
    """Mark the invoices that fell overdue (the worker does this daily)."""
    with session_scope() as session:
        marked = invoices.mark_overdue(session, today=date.today())
        out.print(f"{len(marked)} invoice(s) newly overdue.")


@billing_app.command("stock")
def stock_levels() -> None:
    """Stock per product and location: on hand, reserved, available."""
    with session_scope(write=False) as session:
        table = Table("SKU", "Product", "Location", "On hand", "Reserved", "Available", "Low below")
        for row in stock.levels(session):
            threshold = "" if row.level.low_threshold is None else f"{row.level.low_threshold.normalize():f}"
            table.add_row(row.product.sku, row.product.name, row.location.name, f"{row.level.on_hand.normalize():f}",
                          f"{row.level.reserved.normalize():f}", f"{row.level.available.normalize():f}", threshold)
        out.print(table)


@billing_app.command("receive")
def receive(sku: str, quantity: str, reason: str | None = typer.Option(None)) -> None:
    """Goods arrived: add QUANTITY of SKU to the default location."""
    with session_scope() as session:
        product = stock.product_by_sku(session, sku)
        move = stock.receive(session, product_id=product.id, quantity=_decimal(quantity, "quantity"), reason=reason,
                             actor=SYSTEM_ACTOR)
        out.print(f"{sku}: {move.balance_after.normalize():f} on hand.")


@billing_app.command("adjust")
def adjust(sku: str, quantity: str = typer.Option(..., "--by", help="signed: --by -2 for two lost, --by 3 for three found"),
           reason: str = typer.Option(..., help="why the stock changes")) -> None:
    """Correct what is on hand of SKU, with a reason."""
    with session_scope() as session:
        product = stock.product_by_sku(session, sku)
        move = stock.adjust(session, product_id=product.id, quantity=_decimal(quantity, "quantity"), reason=reason,
                            actor=SYSTEM_ACTOR)
        out.print(f"{sku}: {move.balance_after.normalize():f} on hand.")
