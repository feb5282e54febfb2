"""The Factur-X invoice PDF: a PDF/A-3 whose embedded CII XML comes back out, passes the
official rules, and states the same amounts as the page."""

import io
import re

import facturx
import pypdf

from pipewise.quotes.documents.cii import cii_invoice, facturx_pdf
from tests.quotes.documents import samples, validation
from tests.quotes.documents.test_quote_pdf import pdf_text


def xmp(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def test_the_embedded_xml_comes_back_out_and_passes_the_rules():
    document = samples.domestic()
    pdf = facturx_pdf(document)

    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)

    assert filename == "factur-x.xml"
    assert xml == cii_invoice(document)
    assert validation.cii_schema_errors(xml) == []
    assert validation.cen_cii(xml).fatal == []


def test_the_pdf_declares_pdf_a_3_and_the_factur_x_profile():
    metadata = xmp(facturx_pdf(samples.domestic()))

    assert re.search(r"<pdfaid:part>3</pdfaid:part>", metadata)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", metadata)
    assert re.search(r"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>", metadata)
    assert re.search(r"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>", metadata)


def test_the_page_and_the_xml_state_the_same_total_when_the_document_was_computed_per_line():
    document = samples.per_line_rounding()  # 3.54 computed per line, 3.53 per rate
    pdf = facturx_pdf(document)

    _, xml = facturx.get_xml_from_pdf(pdf)
    assert b"<ram:GrandTotalAmount>3.53</ram:GrandTotalAmount>" in xml
    assert "3,53 €" in pdf_text(pdf) and "3,54 €" not in pdf_text(pdf)


def test_a_credit_note_is_a_factur_x_too():
    pdf = facturx_pdf(samples.credit_note())

    _, xml = facturx.get_xml_from_pdf(pdf)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
    assert "Gutschrift" in pdf_text(pdf)
    assert validation.cen_cii(xml).fatal == []
