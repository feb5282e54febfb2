"""E-invoices checked by the official rules: every sample passes the CEN EN 16931 rules
(UBL and CII), the Peppol BIS Billing 3.0 rules (UBL) and the CII XML Schema with no fatal
finding, and the rules do catch a broken invoice."""

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from lxml import etree

from pipewise.quotes.documents.cii import cii_invoice
from pipewise.quotes.documents.einvoice import EInvoiceError
from pipewise.quotes.documents.ubl import ubl_invoice
from tests.quotes.documents import samples, validation

UBL_NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory):  # type: ignore[no-untyped-def]
    return tmp_path_factory.mktemp("einvoice-rules")


def assert_passes(report: validation.Report) -> None:
    for warning in report.warnings:  # shown with -rP; a warning does not reject an invoice
        print(f"{report.rules} warning {warning.rule}: {warning.text}")
    assert report.fatal == [], "\n".join(f"{f.rule} at {f.location}: {f.text}" for f in report.fatal)


@pytest.mark.parametrize("case", sorted(samples.CASES))
def test_ubl_passes_the_cen_and_peppol_rules(case, rules_dir):
    xml = ubl_invoice(samples.CASES[case]())

    assert_passes(validation.cen_ubl(xml))
    assert_passes(validation.peppol_ubl(xml, rules_dir))


@pytest.mark.parametrize("case", sorted(samples.CASES))
def test_cii_passes_the_schema_and_the_cen_rules(case):
    xml = cii_invoice(samples.CASES[case]())

    assert validation.cii_schema_errors(xml) == []
    assert_passes(validation.cen_cii(xml))


def test_the_rules_reject_an_invoice_whose_tax_does_not_add_up(rules_dir):
    root = etree.fromstring(ubl_invoice(samples.domestic()))
    subtotal_tax = root.findall("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", UBL_NS)[-1]  # the 19 % one
    # BR-CO-17 as the CEN artefacts implement it tolerates one currency unit either way.
    subtotal_tax.text = str(Decimal(subtotal_tax.text) + Decimal("1.50"))
    root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", UBL_NS).set("schemeID", "XX")
    broken = etree.tostring(root)

    cen = {f.rule for f in validation.cen_ubl(broken).fatal}
    peppol = {f.rule for f in validation.peppol_ubl(broken, rules_dir).fatal}
    assert {"BR-CO-17", "BR-CO-14"} <= cen  # category tax = base × rate; the total = the categories
    assert "PEPPOL-EN16931-CL008" in peppol  # endpoint scheme not in the EAS list


def test_tax_categories_follow_the_rate_and_the_buyer():
    def categories(document):  # type: ignore[no-untyped-def]
        root = etree.fromstring(ubl_invoice(document))
        return [
            (s.findtext("cac:TaxCategory/cbc:ID", namespaces=UBL_NS), s.findtext("cac:TaxCategory/cbc:Percent", namespaces=UBL_NS))
            for s in root.iterfind("cac:TaxTotal/cac:TaxSubtotal", UBL_NS)
        ]

    assert categories(samples.domestic()) == [("Z", "0"), ("S", "7"), ("S", "19")]
    assert categories(samples.reverse_charge()) == [("AE", "0")]
    assert categories(samples.exempt()) == [("E", "0")]


def test_a_per_line_document_is_stated_with_its_tax_rounded_per_rate():
    document = samples.per_line_rounding()
    assert document.totals.tax == Decimal("0.57")  # what the per-line PDF shows

    root = etree.fromstring(ubl_invoice(document))

    assert root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=UBL_NS) == "0.56"  # 19 % of 2.97
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=UBL_NS) == "3.53"


def test_yen_amounts_have_no_decimals():
    xml = ubl_invoice(samples.yen()).decode()

    amounts = re.findall(r'currencyID="JPY">([^<]*)<', xml)
    assert amounts and all("." not in a for a in amounts if not a.startswith("0."))
    assert 'cbc:PayableAmount currencyID="JPY">' in xml


def test_what_is_not_an_invoice_or_lacks_legal_details_is_refused():
    with pytest.raises(EInvoiceError, match="quote"):
        ubl_invoice(samples.invoice([samples.line("A", "1", "1", "19")], kind="quote"))
    document = samples.domestic()
    with pytest.raises(EInvoiceError, match="seller's VAT number"):
        cii_invoice(replace(document, seller=replace(document.seller, vat_id=None)))
    with pytest.raises(EInvoiceError, match="corrects"):
        ubl_invoice(replace(samples.credit_note(), preceding_invoice_number=None))
    with pytest.raises(EInvoiceError, match="due date or payment terms"):
        ubl_invoice(replace(document, due_date=None, payment_terms=None))
