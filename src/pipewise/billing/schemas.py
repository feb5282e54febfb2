"""What the API reads and writes for orders, deliveries, invoices, payments and stock."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel

PositiveQuantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
SignedQuantity = Annotated[Decimal, Field(max_digits=14, decimal_places=4)]
Reason = Annotated[str, Field(max_length=300)]


class OrderFromQuote(InputModel):
    quote_id: uuid.UUID


class DeliveryLineIn(InputModel):
    order_line_id: uuid.UUID
    quantity: PositiveQuantity


class DeliveryIn(InputModel):
    """Which lines and how much; none: everything still to deliver."""

    lines: Annotated[list[DeliveryLineIn], Field(max_length=500)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class CancelIn(InputModel):
    reason: Reason | None = None


class InvoiceFromOrder(InputModel):
    order_id: uuid.UUID
    only_delivered: bool = False


class InvoiceFromDeal(InputModel):
    deal_id: uuid.UUID


class InvoiceUpdate(InputModel):
    notes: Annotated[str, Field(max_length=10_000)] | None = None
    payment_terms: Annotated[str, Field(max_length=2000)] | None = None
    issue_date: Annotated[date, Field(ge=date(2000, 1, 1), le=date(2999, 12, 31))] | None = None


class PaymentIn(InputModel):
    amount: Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
    paid_on: Annotated[date, Field(ge=date(2000, 1, 1), le=date(2999, 12, 31))] | None = None
    method: Literal["bank_transfer", "card", "cash", "cheque", "direct_debit", "other"] = "bank_transfer"
    reference: Annotated[str, Field(max_length=200)] | None = None


class CreditNoteIn(InputModel):
    reason: Annotated[str, Field(max_length=2000)] | None = None


class StockReceipt(InputModel):
    product_id: uuid.UUID
    quantity: PositiveQuantity
    reason: Reason | None = None
    location_id: uuid.UUID | None = None


class StockAdjustment(InputModel):
    product_id: uuid.UUID
    quantity: SignedQuantity  # + found, − lost
    reason: Annotated[str, Field(min_length=1, max_length=300)]
    location_id: uuid.UUID | None = None


class StockThreshold(InputModel):
    product_id: uuid.UUID
    low_threshold: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)] | None = None
    manager_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None


class Line(OutputModel):
    id: uuid.UUID
    product_id: uuid.UUID | None
    name: str
    description: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    net_amount: Decimal


class OrderLine(Line):
    reserved_quantity: Decimal
    delivered_quantity: Decimal
    invoiced_quantity: Decimal


class DeliveryNoteLine(OutputModel):
    order_line_id: uuid.UUID
    quantity: Decimal


class DeliveryNote(OutputModel):
    id: uuid.UUID
    number: str
    order_id: uuid.UUID
    created_at: datetime
    note: str | None
    lines: list[DeliveryNoteLine] = []


class Totals(OutputModel):
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal


class OrderSummary(Totals):
    id: uuid.UUID
    number: str
    deal_id: uuid.UUID
    quote_id: uuid.UUID | None
    account_id: uuid.UUID | None
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    version: int


class Order(OrderSummary):
    lines: list[OrderLine]
    deliveries: list[DeliveryNote]


class Payment(OutputModel):
    id: uuid.UUID
    amount: Decimal
    paid_on: date
    method: str
    reference: str | None


class InvoiceSummary(Totals):
    id: uuid.UUID
    number: str | None
    kind: str
    credit_of_id: uuid.UUID | None
    deal_id: uuid.UUID
    order_id: uuid.UUID | None
    account_id: uuid.UUID | None
    status: str
    issue_date: date | None
    due_date: date | None
    posted_at: datetime | None
    paid_total: Decimal
    outstanding: Decimal
    overdue: bool
    created_at: datetime
    version: int


class Invoice(InvoiceSummary):
    notes: str | None
    payment_terms: str | None
    lines: list[Line]
    payments: list[Payment]
    credit_notes: list[uuid.UUID]


class StockLevel(OutputModel):
    product_id: uuid.UUID
    sku: str
    product: str
    location_id: uuid.UUID
    location: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    low_threshold: Decimal | None
    low: bool


class StockMove(OutputModel):
    id: int
    product_id: uuid.UUID
    sku: str
    location_id: uuid.UUID
    kind: str
    quantity: Decimal
    balance_after: Decimal
    reason: str | None
    actor_id: uuid.UUID | None
    order_id: uuid.UUID | None
    at: datetime
