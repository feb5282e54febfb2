"""The quote PDF from the database: the buyer's language and formats, the company's
branding, optional lines shown but not counted, and the same bytes for the same quote."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdf
import pytest

from pipewise.quotes.documents.builders import quote_document, quote_pdf
from pipewise.quotes.models import Quote, QuoteLine
from pipewise.quotes.settings import company_settings


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text.replace("\u00a0", " ").replace("\u202f", " ")  # Babel's no-break spaces


@pytest.fixture
def quote(session, factory):  # type: ignore[no-untyped-def]
    settings = company_settings(session)
    settings.legal_name = "Muster Software GmbH"
    settings.street, settings.postcode, settings.city = "Hauptstraße 1", "10115", "Berlin"
    settings.vat_id = "DE123456789"
    settings.brand_color = "#aa3300"
    account = factory.account(country="FR")
    # An administrator's custom fields of these names hold the buyer's tax id and address.
    account.custom = {"vat_id": "FR12345678901", "city": "Lyon", "postcode": "69001"}
    contact = factory.contact(account_id=account.id, first_name="Claire", last_name="Martin")
    factory.pipeline()
    deal = factory.deal(account_id=account.id)
    quote = Quote(
        number="Q-2026-0042", title="Rollout", deal_id=deal.id, account_id=account.id, contact_id=contact.id,
        currency="EUR", language="de_DE", valid_until=date(2027, 1, 31), terms="Zahlbar in 30 Tagen.",
        sent_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    )
    session.add(quote)
    session.flush()
    lines = [
        QuoteLine(name="Lizenz", quantity=Decimal(12), unit="MON", unit_price=Decimal("49.9000"),
                  discount_percent=Decimal(10), tax_rate=Decimal(19), position=1),
        QuoteLine(name="Handbuch", quantity=Decimal(3), unit="C62", unit_price=Decimal("19.9900"),
                  tax_rate=Decimal(7), position=2),
        QuoteLine(name="Schulung", quantity=Decimal(8), unit="HUR", unit_price=Decimal("95.0000"),
                  tax_rate=Decimal(19), optional=True, selected=False, position=3),
    ]
    session.add_all([QuoteLine(quote_id=quote.id, **{c: getattr(line, c) for c in (
        "name", "quantity", "unit", "unit_price", "discount_percent", "tax_rate", "optional", "selected", "position"
    ) if getattr(line, c) is not None}) for line in lines])
    session.flush()
    return quote


def test_the_document_carries_the_buyer_seller_and_totals_of_the_selected_lines(session, quote):
    document = quote_document(session, quote)

    assert document.kind == "quote" and document.number == "Q-2026-0042"
    assert document.issue_date == date(2026, 12, 1)
    assert document.seller.name == "Muster Software GmbH" and document.seller.vat_id == "DE123456789"
    assert document.buyer.vat_id == "FR12345678901" and document.buyer.country == "FR"
    assert document.buyer.email and document.buyer.contact_name == "Claire Martin"
    assert [line.net_amount for line in document.lines] == [Decimal("538.92"), Decimal("59.97"), Decimal("760.00")]
    # 12 × 49.90 − 10 % = 538.92 at 19 %; 3 × 19.99 = 59.97 at 7 %; the unticked training is not counted.
    assert document.totals.net == Decimal("598.89")
    assert document.totals.tax == Decimal("102.39") + Decimal("4.20")
    assert document.totals.gross == Decimal("705.48")


def test_the_pdf_speaks_the_buyers_language_and_formats(session, quote):
    text = pdf_text(quote_pdf(session, quote))

    assert "Angebot" in text and "Q-2026-0042" in text
    assert "01.12.2026" in text and "31.01.2027" in text  # German dates
    assert "705,48 €" in text and "538,92 €" in text  # German money
    assert "nicht enthalten" in text  # the optional line is shown, marked as not counted
    assert "Frankreich" in text and "FR12345678901" in text


def test_the_same_quote_gives_the_same_bytes(session, quote):
    assert quote_pdf(session, quote) == quote_pdf(session, quote)


def test_english_and_french_labels(session, quote):
    quote.language = "fr_FR"
    text = pdf_text(quote_pdf(session, quote))
    assert "Devis" in text and "Total TTC" in text and "705,48 €" in text
    quote.language = "en_GB"
    text = pdf_text(quote_pdf(session, quote))
    assert "Quote" in text and "€705.48" in text and "1 Dec 2026" in text


def test_a_logo_or_text_cannot_make_the_renderer_fetch_a_file_or_url(session, quote, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the buyer")
    settings = company_settings(session)
    settings.logo_svg = f'<svg xmlns="http://www.w3.org/2000/svg"><image href="file://{secret}"/></svg>'
    settings.brand_color = "red; } body { display: none"
    quote.terms = f'<img src="file://{secret}"> <link rel="stylesheet" href="http://127.0.0.1:9/x.css">'

    pdf = quote_pdf(session, quote)

    text = pdf_text(pdf)
    assert "Angebot" in text  # the page still renders: the broken colour fell back to the default
    assert '<img src="file://' in text  # the buyer's text is shown as text, not markup
    assert b"not for the buyer" not in pdf
