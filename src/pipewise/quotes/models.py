"""The catalogue, price books, line items on deals, quotes (revisions, optional lines,
approvals, the buyer's answer) and the company settings documents are made with.

Money columns are ``Numeric`` read as ``Decimal``; unit prices keep four decimals (a
price book may price a screw at 0.0125), amounts two (the minor unit of most currencies;
see ``money.minor_unit``). Percentages are stored as percentages (22 = 22 %)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, JSONType, Money, Timestamps, UUIDPrimaryKey, Versioned
from pipewise.records.models import owner_fk
from pipewise.records.search_keys import search_indexes

UnitPrice = Numeric(18, 4)
Quantity = Numeric(14, 4)
Percent = Numeric(7, 4)


class Product(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "product"

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal]  # the list price, used where no price book prices the product
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    active: Mapped[bool] = mapped_column(default=True)
    # UN/ECE Recommendation 20 unit code, as e-invoices need it (C62 one, HUR hour, KGM kg).
    unit: Mapped[str] = mapped_column(String(3), default="C62")
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    # Stock is kept for this product (services and subscriptions are not stocked).
    stocked: Mapped[bool] = mapped_column(default=False)


class PriceBook(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """Prices in one currency, valid over a period, for everyone (the default book), one
    segment (accounts whose ``industry`` matches) or one account."""

    __tablename__ = "price_book"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    is_default: Mapped[bool] = mapped_column(default=False)
    segment: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(default=True)


class PriceBookEntry(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A product's unit price in a book from ``min_quantity`` up (volume tiers are several
    entries of one product)."""

    __tablename__ = "price_book_entry"

    price_book_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_book.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    min_quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(1))
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)

    __table_args__ = (UniqueConstraint("price_book_id", "product_id", "min_quantity"),)


class LineFields:
    """What every priced line carries (deal line items, quote lines)."""

    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(3), default="C62")
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    position: Mapped[int] = mapped_column(default=0)


class DealLineItem(LineFields, UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "deal_line_item"

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), index=True)


class QuoteTemplate(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A starting point for quotes: terms, validity and lines as
    ``[{"product_id", "quantity", "discount_percent", "optional"}]``."""

    __tablename__ = "quote_template"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    terms: Mapped[str | None] = mapped_column(Text)
    valid_days: Mapped[int] = mapped_column(default=30)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class Quote(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One revision of a quote. A sent revision is frozen: editing it makes revision n+1
    (same ``number``, ``previous_id`` pointing back) and supersedes it.

    status: draft → pending_approval → approved (only when a discount needed approval) →
    sent → accepted | declined | expired; superseded when a later revision replaces it."""

    __tablename__ = "quote"

    number: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quote.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[uuid.UUID | None] = owner_fk()
    status: Mapped[str] = mapped_column(String(20), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(10), default="en")  # a Babel locale: en, de_DE, fr_FR
    valid_until: Mapped[date | None]
    terms: Mapped[str | None] = mapped_column(Text)
    # The rounding settings the totals were made with (frozen with the quote when sent).
    tax_mode: Mapped[str] = mapped_column(String(12), default="per_line")
    rounding_mode: Mapped[str] = mapped_column(String(12), default="half_up")
    net_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    gross_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    discount_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    max_discount_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    sent_at: Mapped[datetime | None]
    first_viewed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # The exact PDF the buyer was sent and sees on the accept page, and its SHA-256.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("number", "revision"),
        Index("ix_quote_owner_created", "owner_id", "created_at"),
        Index("ix_quote_status_created", "status", "created_at"),
    )


search_indexes(Quote, "number", "title")


class QuoteLine(LineFields, UUIDPrimaryKey, Base):
    __tablename__ = "quote_line"

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"), index=True)
    optional: Mapped[bool] = mapped_column(default=False)  # the buyer may tick it
    selected: Mapped[bool] = mapped_column(default=True)  # counted in the totals
    net_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class QuoteApproval(UUIDPrimaryKey, Timestamps, Base):
    """A discount above the requester's role threshold waits for a manager's decision."""

    __tablename__ = "quote_approval"

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    approver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | approved | rejected
    discount_percent: Mapped[Decimal] = mapped_column(Percent)
    threshold_percent: Mapped[Decimal] = mapped_column(Percent)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)


class QuoteResponse(UUIDPrimaryKey, Timestamps, Base):
    """The buyer's answer on the public page, with what they saw: who, when, from where,
    the optional lines ticked and the SHA-256 of the exact PDF."""

    __tablename__ = "quote_response"

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"), unique=True)
    decision: Mapped[str] = mapped_column(String(10))  # accepted | declined
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # a drawn signature
    selected_line_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    pdf_sha256: Mapped[str] = mapped_column(String(64))


class CompanySettings(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One row: who sells (documents and e-invoices need the legal details), how money is
    rounded, who may discount how far, and the rules of quotes, stock and invoices."""

    __tablename__ = "company_settings"

    name: Mapped[str] = mapped_column(String(200), default="Pipewise Demo Ltd")
    legal_name: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="DE")
    vat_id: Mapped[str | None] = mapped_column(String(30))
    company_id: Mapped[str | None] = mapped_column(String(50))  # trade register number
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    brand_color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    logo_svg: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    language: Mapped[str] = mapped_column(String(10), default="en")
    tax_mode: Mapped[str] = mapped_column(String(12), default="per_line")  # money.TAX_MODES
    rounding_mode: Mapped[str] = mapped_column(String(12), default="half_up")  # money.ROUNDING_MODES
    # The largest discount (percent) each role may give without approval.
    discount_limits: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=lambda: {"rep": 10, "manager": 25, "admin": 100}
    )
    quote_valid_days: Mapped[int] = mapped_column(default=30)
    quote_link_days: Mapped[int] = mapped_column(default=30)
    # The stage an accepted quote moves its deal to (none: the deal stays where it is).
    accepted_stage_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stage.id", ondelete="SET NULL"))
    allow_negative_stock: Mapped[bool] = mapped_column(default=False)
    invoice_prefix: Mapped[str] = mapped_column(String(20), default="INV")
    invoice_due_days: Mapped[int] = mapped_column(default=30)
    payment_terms: Mapped[str | None] = mapped_column(Text)
