"""Request and response shapes of the catalogue, deal line items, quotes and approvals.
Money and quantities are ``Decimal`` end to end (JSON strings on the wire)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from pipewise.schemas import InputModel, OutputModel, RecordOut, VersionedOut, partial

Currency = Annotated[str, Field(min_length=3, max_length=3)]
UnitCode = Annotated[str, Field(min_length=1, max_length=3)]
PercentIn = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
QuantityIn = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
UnitPriceIn = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Text = Annotated[str, Field(max_length=10_000)]


# -- catalogue --


class ProductCreate(InputModel):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text | None = None
    price: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
    currency: Currency = "USD"
    active: bool = True
    unit: UnitCode = "C62"
    tax_rate: PercentIn = Decimal(0)
    stocked: bool = False


ProductUpdate = partial(ProductCreate, "ProductUpdate")


class Product(VersionedOut):
    sku: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    active: bool
    unit: str
    tax_rate: Decimal
    stocked: bool


class PriceBookCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    currency: Currency
    valid_from: date | None = None
    valid_to: date | None = None
    is_default: bool = False
    segment: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    account_id: uuid.UUID | None = None
    active: bool = True


PriceBookUpdate = partial(PriceBookCreate, "PriceBookUpdate")


class PriceBook(VersionedOut):
    name: str
    currency: str
    valid_from: date | None
    valid_to: date | None
    is_default: bool
    segment: str | None
    account_id: uuid.UUID | None
    active: bool


class PriceBookEntryCreate(InputModel):
    price_book_id: uuid.UUID
    product_id: uuid.UUID
    min_quantity: QuantityIn = Decimal(1)
    unit_price: UnitPriceIn


PriceBookEntryUpdate = partial(PriceBookEntryCreate, "PriceBookEntryUpdate")


class PriceBookEntry(VersionedOut):
    price_book_id: uuid.UUID
    product_id: uuid.UUID
    min_quantity: Decimal
    unit_price: Decimal


class ResolvedPrice(OutputModel):
    product_id: uuid.UUID
    quantity: Decimal
    currency: str
    unit_price: Decimal
    source: Literal["account", "segment", "default", "list"]
    price_book_id: uuid.UUID | None
    min_quantity: Decimal | None


class TemplateLine(InputModel):
    product_id: uuid.UUID
    quantity: QuantityIn = Decimal(1)
    discount_percent: PercentIn = Decimal(0)
    optional: bool = False


class QuoteTemplateCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    terms: Text | None = None
    valid_days: Annotated[int, Field(ge=1, le=3650)] = 30
    lines: Annotated[list[TemplateLine], Field(max_length=500)] = []


QuoteTemplateUpdate = partial(QuoteTemplateCreate, "QuoteTemplateUpdate")


class QuoteTemplate(VersionedOut):
    name: str
    terms: str | None
    valid_days: int
    lines: list[dict[str, object]]


# -- priced lines (deal line items and quote lines) --


class LineIn(InputModel):
    """A line as a person types it: the unit price comes from the price book unless given,
    the name, unit and tax rate from the product unless given."""

    product_id: uuid.UUID | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Text | None = None
    quantity: QuantityIn = Decimal(1)
    unit: UnitCode | None = None
    unit_price: UnitPriceIn | None = None
    discount_percent: PercentIn = Decimal(0)
    tax_rate: PercentIn | None = None


class LineItemCreate(LineIn):
    pass


LineItemUpdate = partial(LineIn, "LineItemUpdate")


class LineItem(VersionedOut):
    deal_id: uuid.UUID
    product_id: uuid.UUID | None
    name: str
    description: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    position: int
    net_amount: Decimal


class LineOrder(InputModel):
    line_ids: Annotated[list[uuid.UUID], Field(max_length=1000)]


class AmountMode(InputModel):
    amount_from_lines: bool


class TaxGroupOut(OutputModel):
    rate: Decimal
    base: Decimal
    tax: Decimal


class TotalsOut(OutputModel):
    currency: str
    tax_mode: str
    rounding_mode: str
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    tax_groups: list[TaxGroupOut]
    line_nets: list[Decimal]
    max_discount_percent: Decimal


class DealLines(OutputModel):
    deal_id: uuid.UUID
    deal_version: int
    amount: Decimal | None
    amount_from_lines: bool
    items: list[LineItem]
    totals: TotalsOut


# -- quotes --


class QuoteLineIn(LineIn):
    optional: bool = False
    selected: bool = True


class QuoteLines(InputModel):
    lines: Annotated[list[QuoteLineIn], Field(max_length=1000)]


class TotalsPreview(InputModel):
    """Lines as the builder shows them, priced for a deal (its account and currency)."""

    deal_id: uuid.UUID
    lines: Annotated[list[QuoteLineIn], Field(max_length=1000)]


class QuoteLine(OutputModel):
    id: uuid.UUID
    product_id: uuid.UUID | None
    name: str
    description: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    position: int
    optional: bool
    selected: bool
    net_amount: Decimal


class QuoteCreate(InputModel):
    deal_id: uuid.UUID
    template_id: uuid.UUID | None = None  # none: the deal's line items
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    contact_id: uuid.UUID | None = None
    valid_until: date | None = None
    terms: Text | None = None
    language: Annotated[str, Field(min_length=2, max_length=10)] | None = None


class QuoteUpdate(InputModel):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    contact_id: uuid.UUID | None = None
    valid_until: date | None = None
    terms: Text | None = None
    language: Annotated[str, Field(min_length=2, max_length=10)] | None = None


class Quote(VersionedOut):
    number: str
    revision: int
    previous_id: uuid.UUID | None
    title: str
    deal_id: uuid.UUID
    account_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    status: str
    currency: str
    language: str
    valid_until: date | None
    terms: str | None
    tax_mode: str
    rounding_mode: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    discount_total: Decimal
    max_discount_percent: Decimal
    sent_at: datetime | None
    answered_at: datetime | None


class QuoteWithLines(Quote):
    lines: list[QuoteLine]


# -- approvals --


class QuoteApproval(RecordOut):
    quote_id: uuid.UUID
    requested_by_id: uuid.UUID | None
    approver_id: uuid.UUID | None
    status: str
    discount_percent: Decimal
    threshold_percent: Decimal
    reason: str | None
    decided_by_id: uuid.UUID | None
    decided_at: datetime | None
    comment: str | None


class ApprovalQueueItem(QuoteApproval):
    quote_number: str
    quote_revision: int
    quote_title: str
    gross_total: Decimal
    currency: str
    deal_id: uuid.UUID


class ApprovalDecision(InputModel):
    decision: Literal["approved", "rejected"]
    comment: Annotated[str, Field(max_length=5000)] | None = None


# -- company settings --


class CompanySettingsUpdate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    legal_name: Annotated[str, Field(max_length=200)] | None = None
    street: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    country: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    vat_id: Annotated[str, Field(max_length=30)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    iban: Annotated[str, Field(max_length=34)] | None = None
    bic: Annotated[str, Field(max_length=11)] | None = None
    brand_color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    currency: Currency | None = None
    language: Annotated[str, Field(min_length=2, max_length=10)] | None = None
    tax_mode: Literal["per_line", "on_totals"] | None = None
    rounding_mode: Literal["half_up", "half_even"] | None = None
    discount_limits: dict[Literal["rep", "manager", "admin"], PercentIn] | None = None
    quote_valid_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    accepted_stage_id: uuid.UUID | None = None
    invoice_prefix: Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")] | None = None
    invoice_due_days: Annotated[int, Field(ge=0, le=3650)] | None = None


class CompanySettings(VersionedOut):
    name: str
    legal_name: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str
    vat_id: str | None
    email: str | None
    iban: str | None
    bic: str | None
    brand_color: str
    currency: str
    language: str
    tax_mode: str
    rounding_mode: str
    discount_limits: dict[str, Decimal]
    quote_valid_days: int
    accepted_stage_id: uuid.UUID | None
    invoice_prefix: str
    invoice_due_days: int
