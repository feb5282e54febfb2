"""Orders, stock and invoices: what happens after a buyer says yes.

An order copies the accepted quote's selected lines; confirming it reserves stock of the
stocked products; deliveries (numbered notes) consume the reservation. Invoices copy an
order's lines (all, or what was delivered and not yet invoiced) or a deal's line items,
and take a number from a gap-free counter when posted. Quantities and prices use the
quote columns' precision (``quotes.models``); amounts are two-decimal ``Decimal``."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, BigIntPK, Money, Timestamps, UUIDPrimaryKey, Versioned, utcnow
from pipewise.quotes.models import LineFields, Quantity

ZERO = Decimal(0)

ORDER_STATUSES = ("draft", "confirmed", "partly_delivered", "delivered", "cancelled")
INVOICE_STATUSES = ("draft", "posted", "partly_paid", "paid", "void")
MOVE_KINDS = ("receipt", "delivery", "adjustment")


class DocumentTotals:
    """The rounding a document was made with and the totals it came to."""

    currency: Mapped[str] = mapped_column(String(3))
    tax_mode: Mapped[str] = mapped_column(String(12), default="per_line")
    rounding_mode: Mapped[str] = mapped_column(String(12), default="half_up")
    net_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class Order(DocumentTotals, UUIDPrimaryKey, Timestamps, Versioned, Base):
    """status: draft → confirmed → partly_delivered → delivered, or cancelled. Who sees an
    order is who sees its deal."""

    __tablename__ = "sales_order"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="RESTRICT"), index=True)
    # One order per quote: converting twice (the handler and a person) finds the first.
    quote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quote.id", ondelete="SET NULL"), unique=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_sales_order_status_created", "status", "created_at"),)


class OrderLine(LineFields, UUIDPrimaryKey, Base):
    __tablename__ = "sales_order_line"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    net_amount: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    reserved_quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)
    delivered_quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)
    invoiced_quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)


class DeliveryNote(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "delivery_note"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_location.id", ondelete="RESTRICT"))
    actor_id: Mapped[uuid.UUID | None]
    note: Mapped[str | None] = mapped_column(Text)


class DeliveryNoteLine(UUIDPrimaryKey, Base):
    __tablename__ = "delivery_note_line"

    delivery_note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_note.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_line.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)


class StockLocation(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "stock_location"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)


class StockLevel(UUIDPrimaryKey, Base):
    """One product at one location; available = on_hand − reserved. The row is locked
    while a confirmation, a delivery or a move changes it."""

    __tablename__ = "stock_level"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_location.id", ondelete="CASCADE"), index=True)
    on_hand: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)
    reserved: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)
    # Available below this makes a task and a billing.stock_low event (none: no alert).
    low_threshold: Mapped[Decimal | None] = mapped_column(Quantity)
    # Who is told when it runs low (none: the admins).
    manager_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("product_id", "location_id"),)

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class StockMove(Base):
    """A change of what is on hand, with why, who, and the balance it left."""

    __tablename__ = "stock_move"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_location.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # MOVE_KINDS
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # signed: + in, − out
    balance_after: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str | None] = mapped_column(String(300))
    actor_id: Mapped[uuid.UUID | None]
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id", ondelete="SET NULL"))
    delivery_note_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("delivery_note.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_stock_move_product_at", "product_id", "at"),)


class NumberCounter(Base):
    """The last number given in a series (invoices, orders, delivery notes) in a year. The
    posting transaction locks its row, so a rolled-back posting gives its number back."""

    __tablename__ = "number_counter"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Invoice(DocumentTotals, UUIDPrimaryKey, Timestamps, Versioned, Base):
    """status: draft → posted → partly_paid → paid, or void (by a credit note, an invoice
    of kind credit_note naming it in ``credit_of_id``). A posted invoice never changes
    again except for its payments and status."""

    __tablename__ = "invoice"

    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given when posted
    kind: Mapped[str] = mapped_column(String(12), default="invoice")  # invoice | credit_note
    # NO ACTION rather than RESTRICT: checked at the end of the statement, so a table-wide
    # delete (tests emptying the database) may take a credit note and its invoice together.
    credit_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    posted_at: Mapped[datetime | None]
    paid_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    # Set once, by the daily check, when the invoice first is past due and unpaid.
    overdue_at: Mapped[datetime | None]
    payment_terms: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_invoice_status_created", "status", "created_at"),
        Index("ix_invoice_status_due", "status", "due_date"),
    )

    @property
    def outstanding(self) -> Decimal:
        if self.status in ("draft", "void") or self.kind == "credit_note":
            return self.gross_total - self.gross_total  # zero, in the amount's precision
        return self.gross_total - self.paid_total


class InvoiceLine(LineFields, UUIDPrimaryKey, Base):
    __tablename__ = "invoice_line"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order_line.id", ondelete="SET NULL"))
    net_amount: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class Payment(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "payment"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(30), default="bank_transfer")
    reference: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[uuid.UUID | None]
