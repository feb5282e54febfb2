"""An invoice's documents over HTTP: the PDF, the Peppol UBL XML and the Factur-X PDF of a
posted invoice or credit note; none for a draft; a clear 422 while the company lacks what
an e-invoice needs."""

from lxml import etree

from pipewise.quotes.settings import company_settings
from tests.billing import builders


def _posted(session, co, api):  # type: ignore[no-untyped-def]
    deal = co.deal()
    builders.deal_line(session, deal, builders.product(session, stocked=False), "3", "19.99", tax_rate="19")
    session.commit()
    draft = api.post("/api/v1/invoices/from-deal", json={"deal_id": str(deal.id)}, headers=co.headers["admin"]).json()
    return draft, api.post(f"/api/v1/invoices/{draft['id']}/post", headers=co.headers["admin"]).json()


def _seller_details(session) -> None:  # type: ignore[no-untyped-def]
    settings = company_settings(session)
    settings.legal_name, settings.street, settings.city, settings.postcode = "Muster GmbH", "Hauptstr. 1", "Berlin", "10115"
    settings.vat_id, settings.email, settings.phone = "DE123456789", "billing@muster.example", "+49 30 1234567"
    settings.iban, settings.payment_terms = "DE89370400440532013000", "30 days net"
    session.commit()


def test_a_posted_invoice_downloads_as_pdf_ubl_and_facturx(session, co, api):
    draft, posted = _posted(session, co, api)
    url = f"/api/v1/invoices/{posted['id']}/documents"
    rep = co.headers["east_rep"]
    pdf = api.get(f"{url}/pdf", headers=rep)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert posted["number"] in pdf.headers["content-disposition"]
    missing = api.get(f"{url}/ubl", headers=rep)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "document"

    _seller_details(session)
    ubl = api.get(f"{url}/ubl", headers=rep)
    assert ubl.status_code == 200, ubl.text
    root = etree.fromstring(ubl.content)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert root.findtext("cbc:ID", namespaces=ns) == posted["number"]
    assert root.find(".//{*}LegalMonetaryTotal/cbc:PayableAmount", ns).text == posted["gross_total"]
    facturx = api.get(f"{url}/facturx", headers=rep)
    assert facturx.status_code == 200 and facturx.content.startswith(b"%PDF")
    assert api.get(f"{url}/pdf", headers=co.headers["west_rep"]).status_code == 404


def test_a_draft_has_no_documents_and_a_credit_note_names_its_invoice(session, co, api):
    _seller_details(session)
    deal = co.deal()
    builders.deal_line(session, deal, builders.product(session, stocked=False), "1", "100.00")
    session.commit()
    draft = api.post("/api/v1/invoices/from-deal", json={"deal_id": str(deal.id)}, headers=co.headers["admin"]).json()
    assert api.get(f"/api/v1/invoices/{draft['id']}/documents/pdf", headers=co.headers["admin"]).status_code == 409
    posted = api.post(f"/api/v1/invoices/{draft['id']}/post", headers=co.headers["admin"]).json()
    credit = api.post(f"/api/v1/invoices/{posted['id']}/credit-note", json={}, headers=co.headers["admin"]).json()
    ubl = api.get(f"/api/v1/invoices/{credit['id']}/documents/ubl", headers=co.headers["admin"])
    assert ubl.status_code == 200, ubl.text
    root = etree.fromstring(ubl.content)
    assert etree.QName(root).localname == "CreditNote"
    assert posted["number"].encode() in ubl.content
