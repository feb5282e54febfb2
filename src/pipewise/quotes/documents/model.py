"""What a quote, an invoice or a credit note says, apart from the database: the PDF
templates and the e-invoice writers read only these dataclasses, so billing builds an
invoice the same way the quote builder below builds a quote."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from pipewise.quotes import money

KINDS = ("quote", "invoice", "credit_note")


@dataclass(frozen=True)
class Party:
    """A seller or a buyer. ``electronic_address`` and ``electronic_scheme`` are where an
    e-invoice is delivered (a Peppol participant id and its EAS code, such as ``0088`` for a
    GLN or ``9930`` for a German VAT number); without them the e-mail address is used
    (scheme ``EM``)."""

    name: str
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str = "DE"  # ISO 3166-1 alpha-2
    vat_id: str | None = None
    company_id: str | None = None  # trade register number
    email: str | None = None
    phone: str | None = None
    contact_name: str | None = None
    electronic_address: str | None = None
    electronic_scheme: str | None = None

    @property
    def endpoint(self) -> tuple[str, str] | None:
        if self.electronic_address and self.electronic_scheme:
            return self.electronic_address, self.electronic_scheme
        if self.email:
            return self.email, "EM"
        return None


@dataclass(frozen=True)
class DocumentLine:
    """One line; ``unit`` is a UN/ECE Recommendation 20 code (C62 one, HUR hour), the
    percentages are percentages (19 = 19 %). ``net_amount`` is the rounded line total after
    discount, as ``money.line_amounts`` computes it (``priced`` fills it in). An optional
    line the buyer did not select is shown on a quote and counted nowhere."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "C62"
    description: str | None = None
    discount_percent: Decimal = money.ZERO
    tax_rate: Decimal = money.ZERO
    net_amount: Decimal = money.ZERO
    optional: bool = False
    selected: bool = True

    @property
    def money_line(self) -> money.Line:
        return money.Line(self.quantity, self.unit_price, self.discount_percent, self.tax_rate)


@dataclass(frozen=True)
class Document:
    kind: str  # one of KINDS
    number: str
    issue_date: date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    totals: money.Totals  # over the selected lines, in the order they are listed
    rounding: money.Rounding  # how ``totals`` was computed
    language: str = "en"  # a Babel locale: en, de_DE, fr_FR
    title: str | None = None
    due_date: date | None = None
    valid_until: date | None = None
    terms: str | None = None
    payment_terms: str | None = None
    iban: str | None = None
    bic: str | None = None
    payment_reference: str | None = None
    brand_color: str = "#1f4e79"
    logo_svg: str | None = None
    buyer_reference: str | None = None  # the buyer's own reference (Leitweg-ID, cost centre)
    order_reference: str | None = None  # the buyer's purchase order number
    preceding_invoice_number: str | None = None  # what a credit note corrects
    preceding_invoice_date: date | None = None
    tax_exemption_reason: str | None = None  # why a 0 % rate is an exemption rather than zero-rated
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")

    @property
    def counted_lines(self) -> tuple[DocumentLine, ...]:
        return tuple(line for line in self.lines if line.selected)


def priced(lines: Iterable[DocumentLine], rounding: money.Rounding) -> tuple[tuple[DocumentLine, ...], money.Totals]:
    """The lines with their ``net_amount`` computed, and the totals of the selected ones."""
    lines = tuple(lines)
    amounts = {id(line): money.line_amounts(line.money_line, rounding) for line in lines}
    filled = tuple(replace(line, net_amount=amounts[id(line)].net) for line in lines)
    return filled, money.totals((line.money_line for line in filled if line.selected), rounding)


def with_totals_on_totals(document: Document) -> Document:
    """The document with its tax rounded per rate (EN 16931, BR-CO-17), as an e-invoice
    states it; a document already computed so comes back unchanged."""
    if document.rounding.tax_mode == "on_totals":
        return document
    rounding = replace(document.rounding, tax_mode="on_totals")
    lines, totals = priced(document.lines, rounding)
    return replace(document, lines=lines, totals=totals, rounding=rounding)
