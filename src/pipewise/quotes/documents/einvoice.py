"""What UBL and CII e-invoices share: the tax category of each rate, the tax per category
as EN 16931 computes it, endpoint schemes and how numbers are written."""

from dataclasses import dataclass
from decimal import Decimal

from pipewise.quotes.documents.model import Document, Party, with_totals_on_totals
from pipewise.quotes.money import ZERO

# EU VAT area (Greece's VAT numbers start with EL, its country code is GR).
EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
# Peppol electronic address schemes (EAS) keyed on a VAT number's country, so a party whose
# VAT number is known is addressable without a configured participant id.
VAT_ENDPOINT_SCHEMES = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928", "CZ": "9929", "DE": "9930",
    "EE": "9931", "ES": "9920", "FI": "0213", "FR": "9957", "GB": "9932", "GR": "9933", "HR": "9934",
    "HU": "9910", "IE": "9935", "IT": "0211", "LT": "9937", "LU": "9938", "LV": "9939", "MT": "9943",
    "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947", "SI": "9949", "SK": "9950",
}
REVERSE_CHARGE_REASON = ("VATEX-EU-AE", "Reverse charge")
INVOICE_TYPE = {"invoice": "380", "credit_note": "381"}


class EInvoiceError(ValueError):
    """The document lacks something every e-invoice must carry (named in the message)."""


@dataclass(frozen=True)
class TaxCategory:
    code: str  # UNCL 5305: S standard, Z zero rated, E exempt, AE reverse charge
    rate: Decimal
    base: Decimal
    tax: Decimal
    exemption_code: str | None = None
    exemption_reason: str | None = None


def endpoint(party: Party) -> tuple[str, str] | None:
    """Where the party receives e-invoices: its configured address, else its VAT number
    under its country's VAT scheme, else its e-mail address."""
    if party.electronic_address and party.electronic_scheme:
        return party.electronic_address, party.electronic_scheme
    scheme = VAT_ENDPOINT_SCHEMES.get(party.country.upper())
    if party.vat_id and scheme:
        return party.vat_id, scheme
    if party.email:
        return party.email, "EM"
    return None


def is_reverse_charge(document: Document) -> bool:
    """A B2B sale across an EU border: the buyer accounts for the VAT."""
    seller, buyer = document.seller, document.buyer
    return bool(
        seller.country.upper() in EU and buyer.country.upper() in EU and seller.country.upper() != buyer.country.upper()
        and buyer.vat_id and seller.vat_id
    )


def category_code(document: Document, rate: Decimal) -> str:
    if rate:
        return "S"
    if is_reverse_charge(document):
        return "AE"
    return "E" if document.tax_exemption_reason else "Z"


def tax_categories(document: Document) -> tuple[TaxCategory, ...]:
    """One category per rate, from ``money.Totals.tax_groups`` (the document must be
    computed on totals; ``prepare`` sees to it)."""
    categories = []
    for group in document.totals.tax_groups:
        code = category_code(document, group.rate)
        exemption_code = exemption_reason = None
        if code == "AE":
            exemption_code, exemption_reason = REVERSE_CHARGE_REASON
        elif code == "E":
            exemption_reason = document.tax_exemption_reason
        categories.append(TaxCategory(code, group.rate, group.base, group.tax, exemption_code, exemption_reason))
    return tuple(categories)


def prepare(document: Document) -> Document:
    """The document as an e-invoice states it: an invoice or credit note whose tax is
    rounded per rate (BR-CO-17), with what every e-invoice needs checked."""
    if document.kind not in INVOICE_TYPE:
        raise EInvoiceError(f"a {document.kind} is not an e-invoice: only invoices and credit notes are")
    missing = []
    if not document.counted_lines:
        missing.append("at least one line")
    if not document.seller.vat_id:
        missing.append("the seller's VAT number (company settings)")
    if document.kind == "credit_note" and not document.preceding_invoice_number:
        missing.append("the number of the invoice a credit note corrects")
    if any(line.unit_price < ZERO for line in document.counted_lines):
        missing.append("unit prices of zero or more (a negative price belongs on a credit note)")
    if missing:
        raise EInvoiceError("an e-invoice needs " + ", ".join(missing))
    return with_totals_on_totals(document)


def decimal_text(value: Decimal) -> str:
    """A decimal as XML wants it: no exponent, no trailing zeros beyond the value's own."""
    return format(value.normalize(), "f")


def amount_text(value: Decimal, document: Document) -> str:
    """An amount with exactly the currency's decimals (2 for EUR, 0 for JPY)."""
    return format(document.rounding.round(value), "f")


def payment_reference(document: Document) -> str:
    return document.payment_reference or document.number


def buyer_reference(document: Document) -> str:
    return document.buyer_reference or document.order_reference or document.number
