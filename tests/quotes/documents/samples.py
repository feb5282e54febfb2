"""Invoices for the e-invoice tests, built as billing builds them: lines priced by
``money`` through ``model.priced``."""

from datetime import date
from decimal import Decimal

from pipewise.quotes.documents.model import Document, DocumentLine, Party, priced
from pipewise.quotes.money import Rounding

SELLER = Party(
    name="Muster Software GmbH", street="Hauptstraße 1", city="Berlin", postcode="10115", country="DE",
    vat_id="DE123456789", company_id="HRB 12345", email="billing@muster.example", phone="+49 30 1234567",
    contact_name="Erika Muster",
)
BUYER_DE = Party(
    name="Kunde AG", street="Ring 2", city="Köln", postcode="50667", country="DE", vat_id="DE987654321",
    email="ap@kunde.example", contact_name="Max Kunde",
)
BUYER_FR = Party(
    name="Client SARL", street="1 rue de la Paix", city="Lyon", postcode="69001", country="FR",
    vat_id="FR12345678901", email="compta@client.example",
)
BUYER_JP = Party(
    name="Kabushiki Kaisha Example", street="1-1 Marunouchi", city="Tokyo", postcode="100-0005", country="JP",
    electronic_address="0123456789012", electronic_scheme="0088", email="ap@example.jp",
)


def line(name: str, quantity: str, price: str, rate: str, discount: str = "0", unit: str = "C62", **kw) -> DocumentLine:  # type: ignore[no-untyped-def]
    return DocumentLine(name=name, quantity=Decimal(quantity), unit_price=Decimal(price), tax_rate=Decimal(rate),
                        discount_percent=Decimal(discount), unit=unit, **kw)


def invoice(lines: list[DocumentLine], *, buyer: Party = BUYER_DE, currency: str = "EUR", tax_mode: str = "on_totals",
            kind: str = "invoice", **kw) -> Document:  # type: ignore[no-untyped-def]
    rounding = Rounding(currency, tax_mode, kw.pop("rounding_mode", "half_up"))
    priced_lines, totals = priced(lines, rounding)
    fields = {
        "due_date": date(2027, 1, 2), "payment_terms": "30 days net", "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "COBADEFFXXX", "order_reference": "PO-7781", "language": "de_DE",
    }
    fields.update(kw)
    return Document(
        kind=kind, number="INV-2026-0001" if kind == "invoice" else "CN-2026-0001", issue_date=date(2026, 12, 3),
        currency=currency, seller=SELLER, buyer=buyer, lines=priced_lines, totals=totals, rounding=rounding, **fields,
    )


def domestic() -> Document:
    """Two VAT rates, a discount, four-decimal prices and a zero-rated line."""
    return invoice([
        line("Software licence", "12", "49.9000", "19", discount="10", unit="MON"),
        line("Consulting", "7.5", "120.0000", "19", discount="3.5", unit="HUR", description="On site, Berlin"),
        line("Handbook", "3", "19.9900", "7"),
        line("Screws", "1250", "0.0125", "19", unit="H87"),
        line("Export documentation", "1", "35.0000", "0"),
    ])


def reverse_charge() -> Document:
    return invoice([line("Consulting", "10", "120.0000", "0", unit="HUR"), line("Training", "2", "450.0000", "0", "5")],
                   buyer=BUYER_FR, language="fr_FR")


def exempt() -> Document:
    return invoice([line("Medical training", "1", "900.0000", "0", unit="DAY")],
                   tax_exemption_reason="Steuerfrei nach § 4 Nr. 21 UStG")


def credit_note() -> Document:
    return invoice([line("Software licence", "2", "49.9000", "19", unit="MON"), line("Handbook", "1", "19.9900", "7")],
                   kind="credit_note", preceding_invoice_number="INV-2026-0001",
                   preceding_invoice_date=date(2026, 12, 3), due_date=None, payment_terms=None)


def yen() -> Document:
    return invoice([line("Licence", "3", "12500", "10"), line("Support", "7", "3333", "10", "5", unit="HUR"),
                    line("Shipping", "1", "1980", "0")],
                   buyer=BUYER_JP, currency="JPY", language="ja_JP", iban=None, bic=None)


def per_line_rounding() -> Document:
    """Computed per line where that differs from per rate: 3 × 0.99 at 19 % is 0.19 a line
    (0.57) per line, but 0.56 on the 2.97 base."""
    lines = [line(f"Item {n}", "1", "0.9900", "19") for n in range(3)]
    return invoice(lines, tax_mode="per_line")


def rounding_stress() -> Document:
    """Forty lines of awkward quantities, prices and discounts over three rates."""
    lines = []
    for n in range(40):
        quantity = Decimal(n % 7 + 1) + Decimal(n % 4) / 8
        price = Decimal(1000 + 137 * n) / Decimal(1000) * (n % 5 + 1)
        rate = ("19", "7", "0")[n % 3]
        lines.append(line(f"Item {n}", str(quantity), str(price.quantize(Decimal("0.0001"))), rate, str(n % 6 * 2.5)))
    return invoice(lines, tax_mode="per_line", rounding_mode="half_even")


CASES = {
    "domestic": domestic,
    "reverse_charge": reverse_charge,
    "exempt": exempt,
    "credit_note": credit_note,
    "yen": yen,
    "per_line_rounding": per_line_rounding,
    "rounding_stress": rounding_stress,
}
