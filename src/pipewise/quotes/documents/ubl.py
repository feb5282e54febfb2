"""Invoices and credit notes as UBL 2.1 per Peppol BIS Billing 3.0 (EN 16931 compliant)."""

from lxml import etree

from pipewise.quotes.documents.einvoice import (
    INVOICE_TYPE,
    TaxCategory,
    amount_text,
    buyer_reference,
    decimal_text,
    endpoint,
    line_discount,
    payment_reference,
    prepare,
    tax_categories,
)
from pipewise.quotes.documents.model import Document, DocumentLine, Party

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOT = {
    "invoice": ("Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"),
    "credit_note": ("CreditNote", "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"),
}
SEPA_CREDIT_TRANSFER = "58"
DISCOUNT_REASON = "95"  # UNCL 5189: discount


class XmlWriter:
    """Writes elements by prefixed name (``cbc:ID``) in the namespaces of one syntax; the
    UBL and CII writers share it. Empty values are left out: Peppol forbids empty elements
    (PEPPOL-EN16931-R008)."""

    namespaces: dict[str, str] = {}

    def __init__(self, document: Document) -> None:
        self.document = document

    def element(self, parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
        prefix, local = name.split(":")
        node = etree.SubElement(parent, f"{{{self.namespaces[prefix]}}}{local}", attributes)
        if text is not None:
            node.text = text
        return node

    def optional(self, parent: etree._Element, name: str, text: str | None) -> None:
        if text:
            self.element(parent, name, text)


class _Writer(XmlWriter):
    namespaces = {"cac": CAC, "cbc": CBC}

    def amount(self, parent: etree._Element, name: str, value) -> None:  # type: ignore[no-untyped-def]
        self.element(parent, name, amount_text(value, self.document), currencyID=self.document.currency)


def ubl_invoice(document: Document) -> bytes:
    """The invoice (or credit note) as Peppol BIS Billing 3.0 UBL, UTF-8 encoded."""
    document = prepare(document)
    kind = document.kind
    root_name, namespace = ROOT[kind]
    root = etree.Element(f"{{{namespace}}}{root_name}", nsmap={None: namespace, "cac": CAC, "cbc": CBC})
    w = _Writer(document)
    w.element(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
    w.element(root, "cbc:ProfileID", PROFILE_ID)
    w.element(root, "cbc:ID", document.number)
    w.element(root, "cbc:IssueDate", document.issue_date.isoformat())
    if kind == "invoice" and document.due_date:
        w.element(root, "cbc:DueDate", document.due_date.isoformat())
    w.element(root, "cbc:InvoiceTypeCode" if kind == "invoice" else "cbc:CreditNoteTypeCode", INVOICE_TYPE[kind])
    note = "\n".join(n for n in (*document.notes, document.terms or "") if n)
    w.optional(root, "cbc:Note", note)
    w.element(root, "cbc:DocumentCurrencyCode", document.currency)
    # Peppol needs a buyer reference or an order reference (PEPPOL-EN16931-R003), a German
    # seller the buyer reference (DE-R-015): without one, the order or the document number.
    w.element(root, "cbc:BuyerReference", buyer_reference(document))
    if document.order_reference:
        w.element(w.element(root, "cac:OrderReference"), "cbc:ID", document.order_reference)
    if document.preceding_invoice_number:
        reference = w.element(w.element(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        w.element(reference, "cbc:ID", document.preceding_invoice_number)
        if document.preceding_invoice_date:
            w.element(reference, "cbc:IssueDate", document.preceding_invoice_date.isoformat())
    _party(w, w.element(root, "cac:AccountingSupplierParty"), document.seller)
    _party(w, w.element(root, "cac:AccountingCustomerParty"), document.buyer)
    if document.iban:
        means = w.element(root, "cac:PaymentMeans")
        w.element(means, "cbc:PaymentMeansCode", SEPA_CREDIT_TRANSFER)
        if kind == "credit_note" and document.due_date:
            w.element(means, "cbc:PaymentDueDate", document.due_date.isoformat())
        w.element(means, "cbc:PaymentID", payment_reference(document))
        account = w.element(means, "cac:PayeeFinancialAccount")
        w.element(account, "cbc:ID", document.iban.replace(" ", ""))
        w.element(account, "cbc:Name", document.seller.name)
        if document.bic:
            w.element(w.element(account, "cac:FinancialInstitutionBranch"), "cbc:ID", document.bic)
    if document.payment_terms:
        w.element(w.element(root, "cac:PaymentTerms"), "cbc:Note", document.payment_terms)
    categories = tax_categories(document)
    _tax_total(w, root, categories)
    totals = document.totals
    monetary = w.element(root, "cac:LegalMonetaryTotal")
    w.amount(monetary, "cbc:LineExtensionAmount", totals.net)
    w.amount(monetary, "cbc:TaxExclusiveAmount", totals.net)
    w.amount(monetary, "cbc:TaxInclusiveAmount", totals.gross)
    w.amount(monetary, "cbc:PayableAmount", totals.gross)
    by_rate = {category.rate: category for category in categories}
    for number, line in enumerate(document.counted_lines, start=1):
        _line(w, root, number, line, by_rate[line.tax_rate])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _party(w: _Writer, parent: etree._Element, party: Party) -> None:
    node = w.element(parent, "cac:Party")
    address = endpoint(party)
    if address:
        w.element(node, "cbc:EndpointID", address[0], schemeID=address[1])
    w.element(w.element(node, "cac:PartyName"), "cbc:Name", party.name)
    postal = w.element(node, "cac:PostalAddress")
    w.optional(postal, "cbc:StreetName", party.street)
    w.optional(postal, "cbc:CityName", party.city)
    w.optional(postal, "cbc:PostalZone", party.postcode)
    w.element(w.element(postal, "cac:Country"), "cbc:IdentificationCode", party.country.upper())
    if party.vat_id:
        scheme = w.element(node, "cac:PartyTaxScheme")
        w.element(scheme, "cbc:CompanyID", party.vat_id)
        w.element(w.element(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    legal = w.element(node, "cac:PartyLegalEntity")
    w.element(legal, "cbc:RegistrationName", party.name)
    w.optional(legal, "cbc:CompanyID", party.company_id)
    if party.contact_name or party.phone or party.email:
        contact = w.element(node, "cac:Contact")
        w.element(contact, "cbc:Name", party.contact_name or party.name)
        w.optional(contact, "cbc:Telephone", party.phone)
        w.optional(contact, "cbc:ElectronicMail", party.email)


def _category(w: _Writer, parent: etree._Element, name: str, category: TaxCategory, *, reasons: bool) -> None:
    node = w.element(parent, name)
    w.element(node, "cbc:ID", category.code)
    w.element(node, "cbc:Percent", decimal_text(category.rate))
    if reasons:
        w.optional(node, "cbc:TaxExemptionReasonCode", category.exemption_code)
        w.optional(node, "cbc:TaxExemptionReason", category.exemption_reason)
    w.element(w.element(node, "cac:TaxScheme"), "cbc:ID", "VAT")


def _tax_total(w: _Writer, root: etree._Element, categories: tuple[TaxCategory, ...]) -> None:
    total = w.element(root, "cac:TaxTotal")
    w.amount(total, "cbc:TaxAmount", w.document.totals.tax)
    for category in categories:
        subtotal = w.element(total, "cac:TaxSubtotal")
        w.amount(subtotal, "cbc:TaxableAmount", category.base)
        w.amount(subtotal, "cbc:TaxAmount", category.tax)
        _category(w, subtotal, "cac:TaxCategory", category, reasons=True)


def _line(w: _Writer, root: etree._Element, number: int, line: DocumentLine, category: TaxCategory) -> None:
    credit = w.document.kind == "credit_note"
    node = w.element(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    w.element(node, "cbc:ID", str(number))
    w.element(node, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", decimal_text(line.quantity), unitCode=line.unit)
    w.amount(node, "cbc:LineExtensionAmount", line.net_amount)
    discount = line_discount(line, w.document)
    if discount:
        charge = w.element(node, "cac:AllowanceCharge")
        w.element(charge, "cbc:ChargeIndicator", "false")
        w.element(charge, "cbc:AllowanceChargeReasonCode", DISCOUNT_REASON)
        w.element(charge, "cbc:AllowanceChargeReason", "Discount")
        if discount.percent is not None:
            w.element(charge, "cbc:MultiplierFactorNumeric", decimal_text(discount.percent))
        w.amount(charge, "cbc:Amount", discount.amount)
        if discount.percent is not None:
            w.amount(charge, "cbc:BaseAmount", discount.base)
    item = w.element(node, "cac:Item")
    w.optional(item, "cbc:Description", line.description)
    w.element(item, "cbc:Name", line.name)
    _category(w, item, "cac:ClassifiedTaxCategory", category, reasons=False)
    price = w.element(node, "cac:Price")
    w.element(price, "cbc:PriceAmount", decimal_text(line.unit_price), currencyID=w.document.currency)
