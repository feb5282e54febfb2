"""Orders, invoices and stock as the API, pages and commands show them."""

from typing import Any

from sqlalchemy.orm import Session

from pipewise.billing import invoices, orders
from pipewise.billing.models import Invoice, Order, StockMove
from pipewise.billing.stock import LevelRow
from pipewise.quotes.models import Product

ORDER_FIELDS = ("id", "number", "deal_id", "quote_id", "account_id", "status", "currency", "net_total", "tax_total",
                "gross_total", "created_at", "confirmed_at", "cancelled_at", "version")
INVOICE_FIELDS = ("id", "number", "kind", "credit_of_id", "deal_id", "order_id", "account_id", "status", "currency",
                  "net_total", "tax_total", "gross_total", "issue_date", "due_date", "posted_at", "paid_total", "outstanding",
                  "created_at", "version")


def order_summary(order: Order) -> dict[str, Any]:
    return {name: getattr(order, name) for name in ORDER_FIELDS}


def order_detail(session: Session, order: Order) -> dict[str, Any]:
    return {
        **order_summary(order),
        "lines": orders.lines_of(session, order.id),
        "deliveries": [{"id": note.id, "number": note.number, "order_id": note.order_id, "created_at": note.created_at,
                        "note": note.note, "lines": lines} for note, lines in orders.delivery_notes(session, order.id)],
    }


def invoice_summary(invoice: Invoice) -> dict[str, Any]:
    return {**{name: getattr(invoice, name) for name in INVOICE_FIELDS},
            "overdue": invoice.overdue_at is not None and invoice.status in invoices.UNPAID}


def invoice_detail(session: Session, invoice: Invoice) -> dict[str, Any]:
    return {
        **invoice_summary(invoice),
        "notes": invoice.notes,
        "payment_terms": invoice.payment_terms,
        "lines": invoices.lines_of(session, invoice.id),
        "payments": invoices.payments_of(session, invoice.id),
        "credit_notes": [credit.id for credit in invoices.credit_notes_of(session, invoice.id)],
    }


def level(row: LevelRow) -> dict[str, Any]:
    return {"product_id": row.product.id, "sku": row.product.sku, "product": row.product.name, "location_id": row.location.id,
            "location": row.location.name, "on_hand": row.level.on_hand, "reserved": row.level.reserved,
            "available": row.level.available, "low_threshold": row.level.low_threshold, "low": row.low}


def move(move: StockMove, product: Product) -> dict[str, Any]:
    return {"id": move.id, "product_id": move.product_id, "sku": product.sku, "location_id": move.location_id,
            "kind": move.kind, "quantity": move.quantity, "balance_after": move.balance_after, "reason": move.reason,
            "actor_id": move.actor_id, "order_id": move.order_id, "at": move.at}
