"""A deal's orders and invoices on its timeline."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.billing.models import Invoice, Order
from pipewise.records.timeline import TimelineEntry


def orders_and_invoices(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    if record_type != "deal":
        return []
    entries = [
        TimelineEntry(kind="order", at=order.confirmed_at or order.created_at,
                      title=f"Order {order.number}: {order.status.replace('_', ' ')}",
                      detail=f"{order.gross_total} {order.currency}",
                      data={"id": str(order.id), "status": order.status})
        for order in session.scalars(select(Order).where(Order.deal_id == record_id).limit(100))
    ]
    entries += [
        TimelineEntry(kind="invoice", at=invoice.posted_at or invoice.created_at,
                      title=f"{'Credit note' if invoice.kind == 'credit_note' else 'Invoice'} "
                            f"{invoice.number or '(draft)'}: {invoice.status.replace('_', ' ')}",
                      detail=f"{invoice.gross_total} {invoice.currency}, {invoice.outstanding} outstanding"
                             + (", overdue" if invoice.overdue_at and invoice.status in ("posted", "partly_paid") else ""),
                      data={"id": str(invoice.id), "status": invoice.status, "kind": invoice.kind})
        for invoice in session.scalars(select(Invoice).where(Invoice.deal_id == record_id).limit(100))
    ]
    return entries
