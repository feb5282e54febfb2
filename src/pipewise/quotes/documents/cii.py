"""Invoices and credit notes as UN/CEFACT Cross Industry Invoice (EN 16931 profile), and the
invoice PDF carrying it as a Factur-X / ZUGFeRD PDF/A-3."""

from datetime import date
from decimal import Decimal

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
from pipewise.quotes.documents.ubl import DISCOUNT_REASON, SEPA_CREDIT_TRANSFER, XmlWriter

EN16931 = "urn:cen.eu:en16931:2017"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


class _Writer(XmlWriter):
    namespaces = NS

    def amount(self, parent: etree._Element, name: str, value: Decimal, *, currency: bool = False) -> None:
        attributes = {"currencyID": self.document.currency} if currency else {}
        self.element(parent, name, amount_text(value, self.document), **attributes)

    def day(self, parent: etree._Element, name: str, value: date, *, qualified: bool = False) -> None:
        holder = self.element(parent, name)
        self.element(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def cii_invoice(document: Document) -> bytes:
    """The invoice (or credit note) as CII XML in the EN 16931 profile, UTF-8 encoded."""
    document = prepare(document)
    w = _Writer(document)
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = w.element(root, "rsm:ExchangedDocumentContext")
    w.element(w.element(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    header = w.element(root, "rsm:ExchangedDocument")
    w.element(header, "ram:ID", document.number)
    w.element(header, "ram:TypeCode", INVOICE_TYPE[document.kind])
    w.day(header, "ram:IssueDateTime", document.issue_date)
    for note in (*document.notes, document.terms):
        if note:
            w.element(w.element(header, "ram:IncludedNote"), "ram:Content", note)
    transaction = w.element(root, "rsm:SupplyChainTradeTransaction")
    categories = tax_categories(document)
    by_rate = {category.rate: category for category in categories}
    for number, line in enumerate(document.counted_lines, start=1):
        _line(w, transaction, number, line, by_rate[line.tax_rate])
    agreement = w.element(transaction, "ram:ApplicableHeaderTradeAgreement")
    w.element(agreement, "ram:BuyerReference", buyer_reference(document))
    _party(w, agreement, "ram:SellerTradeParty", document.seller)
    _party(w, agreement, "ram:BuyerTradeParty", document.buyer)
    if document.order_reference:
        w.element(w.element(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", document.order_reference)
    w.element(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(w, w.element(transaction, "ram:ApplicableHeaderTradeSettlement"), categories)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _party(w: _Writer, parent: etree._Element, name: str, party: Party) -> None:
    node = w.element(parent, name)
    w.element(node, "ram:Name", party.name)
    if party.company_id:
        w.element(w.element(node, "ram:SpecifiedLegalOrganization"), "ram:ID", party.company_id)
    if party.contact_name or party.phone or party.email:
        contact = w.element(node, "ram:DefinedTradeContact")
        w.element(contact, "ram:PersonName", party.contact_name or party.name)
        if party.phone:
            w.element(w.element(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", party.phone)
        if party.email:
            w.element(w.element(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    address = w.element(node, "ram:PostalTradeAddress")
    w.optional(address, "ram:PostcodeCode", party.postcode)
    w.optional(address, "ram:LineOne", party.street)
    w.optional(address, "ram:CityName", party.city)
    w.element(address, "ram:CountryID", party.country.upper())
    electronic = endpoint(party)
    if electronic:
        w.element(w.element(node, "ram:URIUniversalCommunication"), "ram:URIID", electronic[0], schemeID=electronic[1])
    if party.vat_id:
        w.element(w.element(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")


def _line(w: _Writer, parent: etree._Element, number: int, line: DocumentLine, category: TaxCategory) -> None:
    node = w.element(parent, "ram:IncludedSupplyChainTradeLineItem")
    w.element(w.element(node, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
    product = w.element(node, "ram:SpecifiedTradeProduct")
    w.element(product, "ram:Name", line.name)
    w.optional(product, "ram:Description", line.description)
    agreement = w.element(node, "ram:SpecifiedLineTradeAgreement")
    w.element(w.element(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", decimal_text(line.unit_price))
    delivery = w.element(node, "ram:SpecifiedLineTradeDelivery")
    w.element(delivery, "ram:BilledQuantity", decimal_text(line.quantity), unitCode=line.unit)
    settlement = w.element(node, "ram:SpecifiedLineTradeSettlement")
    tax = w.element(settlement, "ram:ApplicableTradeTax")
    w.element(tax, "ram:TypeCode", "VAT")
    w.element(tax, "ram:CategoryCode", category.code)
    w.element(tax, "ram:RateApplicablePercent", decimal_text(category.rate))
    discount = line_discount(line, w.document)
    if discount:
        charge = w.element(settlement, "ram:SpecifiedTradeAllowanceCharge")
        w.element(w.element(charge, "ram:ChargeIndicator"), "udt:Indicator", "false")
        if discount.percent is not None:
            w.element(charge, "ram:CalculationPercent", decimal_text(discount.percent))
            w.amount(charge, "ram:BasisAmount", discount.base)
        w.amount(charge, "ram:ActualAmount", discount.amount)
        w.element(charge, "ram:ReasonCode", DISCOUNT_REASON)
        w.element(charge, "ram:Reason", "Discount")
    summation = w.element(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    w.amount(summation, "ram:LineTotalAmount", line.net_amount)


def _settlement(w: _Writer, node: etree._Element, categories: tuple[TaxCategory, ...]) -> None:
    document = w.document
    if document.iban:
        w.element(node, "ram:PaymentReference", payment_reference(document))
    w.element(node, "ram:InvoiceCurrencyCode", document.currency)
    if document.iban:
        means = w.element(node, "ram:SpecifiedTradeSettlementPaymentMeans")
        w.element(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        account = w.element(means, "ram:PayeePartyCreditorFinancialAccount")
        w.element(account, "ram:IBANID", document.iban.replace(" ", ""))
        w.element(account, "ram:AccountName", document.seller.name)
        if document.bic:
            w.element(w.element(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", document.bic)
    for category in categories:
        tax = w.element(node, "ram:ApplicableTradeTax")
        w.amount(tax, "ram:CalculatedAmount", category.tax)
        w.element(tax, "ram:TypeCode", "VAT")
        w.optional(tax, "ram:ExemptionReason", category.exemption_reason)
        w.amount(tax, "ram:BasisAmount", category.base)
        w.element(tax, "ram:CategoryCode", category.code)
        w.optional(tax, "ram:ExemptionReasonCode", category.exemption_code)
        w.element(tax, "ram:RateApplicablePercent", decimal_text(category.rate))
    if document.payment_terms or document.due_date:
        terms = w.element(node, "ram:SpecifiedTradePaymentTerms")
        w.optional(terms, "ram:Description", document.payment_terms)
        if document.due_date:
            w.day(terms, "ram:DueDateDateTime", document.due_date)
    totals = document.totals
    summation = w.element(node, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    w.amount(summation, "ram:LineTotalAmount", totals.net)
    w.amount(summation, "ram:TaxBasisTotalAmount", totals.net)
    w.amount(summation, "ram:TaxTotalAmount", totals.tax, currency=True)
    w.amount(summation, "ram:GrandTotalAmount", totals.gross)
    w.amount(summation, "ram:DuePayableAmount", totals.gross)
    if document.preceding_invoice_number:
        reference = w.element(node, "ram:InvoiceReferencedDocument")
        w.element(reference, "ram:IssuerAssignedID", document.preceding_invoice_number)
        if document.preceding_invoice_date:
            w.day(reference, "ram:FormattedIssueDateTime", document.preceding_invoice_date, qualified=True)


def facturx_pdf(document: Document) -> bytes:
    """The invoice PDF (PDF/A-3) with its CII XML embedded as Factur-X EN 16931
    (``factur-x.xml``), readable by people and by accounting software alike. A document
    computed per line is stated with its tax rounded per rate, in the PDF and the XML."""
    import facturx  # noqa: PLC0415 - loaded on first use, like WeasyPrint

    from pipewise.quotes.documents.render import render_pdf  # noqa: PLC0415

    document = prepare(document)
    pdf = render_pdf(document, pdf_variant="pdf/a-3b")
    metadata = {
        "author": document.seller.name,
        "keywords": "Factur-X, Invoice",
        "title": f"{document.seller.name}: {document.number}",
        "subject": f"{document.kind.replace('_', ' ').capitalize()} {document.number}",
    }
    return facturx.generate_from_binary(
        pdf, cii_invoice(document), flavor="factur-x", level="en16931", check_xsd=True,
        pdf_metadata=metadata, lang=document.language.replace("_", "-"),
    )
