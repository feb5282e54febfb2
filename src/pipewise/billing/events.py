"""The facts orders, stock and invoices record. Each carries the deal it belongs to (stock
events the product), so workflows and the timeline can follow it."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderFact(DomainEvent):
    record_type: ClassVar[str | None] = "order"

    deal_id: uuid.UUID
    number: str


@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderFact):
    name: ClassVar[str] = "billing.order_created"

    quote_id: uuid.UUID | None = None
    gross_total: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderFact):
    name: ClassVar[str] = "billing.order_confirmed"


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderFact):
    """A delivery note went out; ``status`` says whether the order is now complete."""

    name: ClassVar[str] = "billing.order_delivered"

    delivery_note: str
    status: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderFact):
    name: ClassVar[str] = "billing.order_cancelled"

    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class InvoiceFact(DomainEvent):
    record_type: ClassVar[str | None] = "invoice"

    deal_id: uuid.UUID
    number: str | None
    gross_total: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class InvoicePosted(InvoiceFact):
    name: ClassVar[str] = "billing.invoice_posted"

    kind: str = "invoice"
    due_date: str | None = None


@dataclass(frozen=True, kw_only=True)
class InvoicePaid(InvoiceFact):
    """A payment was recorded; ``status`` is paid or partly_paid."""

    name: ClassVar[str] = "billing.invoice_paid"

    amount: Decimal
    outstanding: Decimal
    status: str


@dataclass(frozen=True, kw_only=True)
class InvoiceVoided(InvoiceFact):
    name: ClassVar[str] = "billing.invoice_voided"

    credit_note_id: uuid.UUID
    credit_note: str | None


@dataclass(frozen=True, kw_only=True)
class InvoiceOverdue(InvoiceFact):
    """Recorded once per invoice, the first day it is past due and not fully paid."""

    name: ClassVar[str] = "billing.invoice_overdue"

    due_date: str
    outstanding: Decimal


@dataclass(frozen=True, kw_only=True)
class StockLow(DomainEvent):
    """A product's available stock at a location fell below its threshold."""

    name: ClassVar[str] = "billing.stock_low"
    record_type: ClassVar[str | None] = "product"

    location_id: uuid.UUID
    sku: str
    available: Decimal
    threshold: Decimal
    task_id: uuid.UUID | None = None
