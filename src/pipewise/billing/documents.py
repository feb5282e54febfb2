"""A posted invoice or credit note as a ``Document``, the dataclass the PDF and e-invoice
writers of ``quotes.documents`` read; and the three files made from it."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pipewise.billing import invoices
from pipewise.billing.lines import rounding_of
from pipewise.billing.models import Invoice, Order
from pipewise.crm.models import Account, Contact
from pipewise.deals.service import deal_service
from pipewise.errors import Conflict, ValidationFailed
from pipewise.quotes.documents.builders import buyer_party, seller_party
from pipewise.quotes.documents.cii import facturx_pdf
from pipewise.quotes.documents.einvoice import EInvoiceError
from pipewise.quotes.documents.model import Document, DocumentLine, priced
from pipewise.quotes.documents.render import render_pdf
from pipewise.quotes.documents.ubl import ubl_invoice
from pipewise.quotes.models import Quote
from pipewise.quotes.settings import company_settings


def _contact(session: Session, invoice: Invoice) -> Contact | None:
    """Whom the invoice is for: the contact of the quote its order came from, else the
    deal's first contact."""
    order = session.get(Order, invoice.order_id) if invoice.order_id else None
    quote = session.get(Quote, order.quote_id) if order is not None and order.quote_id else None
    if quote is not None and quote.contact_id:
        return session.get(Contact, quote.contact_id)
    contacts = deal_service.contacts(session, invoice.deal_id)
    return contacts[0][0] if contacts else None


def invoice_document(session: Session, invoice: Invoice) -> Document:
    """The invoice as a document. The caller has already checked the actor may see it."""
    if invoice.number is None or invoice.issue_date is None:
        raise Conflict("a draft has no number yet: post the invoice to get its documents")
    settings = company_settings(session)
    account = session.get(Account, invoice.account_id) if invoice.account_id else None
    rounding = rounding_of(invoice)
    lines, totals = priced((
        DocumentLine(name=row.name, description=row.description, quantity=row.quantity, unit=row.unit,
                     unit_price=row.unit_price, discount_percent=row.discount_percent, tax_rate=row.tax_rate)
        for row in invoices.lines_of(session, invoice.id)
    ), rounding)
    original = session.get(Invoice, invoice.credit_of_id) if invoice.credit_of_id else None
    order = session.get(Order, invoice.order_id) if invoice.order_id else None
    return Document(
        kind=invoice.kind,
        number=invoice.number,
        issue_date=invoice.issue_date,
        currency=invoice.currency,
        seller=seller_party(settings),
        buyer=buyer_party(account, _contact(session, invoice), default_country=settings.country),
        lines=lines,
        totals=totals,
        rounding=rounding,
        language=settings.language,
        due_date=invoice.due_date,
        payment_terms=invoice.payment_terms,
        iban=settings.iban,
        bic=settings.bic,
        payment_reference=invoice.number,
        brand_color=settings.brand_color,
        logo_svg=settings.logo_svg,
        order_reference=order.number if order is not None else None,
        preceding_invoice_number=original.number if original is not None else None,
        preceding_invoice_date=original.issue_date if original is not None else None,
        notes=tuple(note for note in (invoice.notes,) if note),
    )


@dataclass(frozen=True)
class InvoiceFile:
    suffix: str
    media_type: str
    make: Callable[[Document], bytes]


FILES = {
    "pdf": InvoiceFile("pdf", "application/pdf", render_pdf),
    "ubl": InvoiceFile("xml", "application/xml", ubl_invoice),
    "facturx": InvoiceFile("pdf", "application/pdf", facturx_pdf),
}


def invoice_file(session: Session, invoice: Invoice, kind: str) -> tuple[str, str, bytes]:
    """(file name, media type, content) of the invoice's PDF, UBL XML or Factur-X PDF. An
    e-invoice the company's details cannot make yet (no VAT number, say) is a 422 naming
    what is missing."""
    spec = FILES[kind]
    document = invoice_document(session, invoice)
    try:
        content = spec.make(document)
    except EInvoiceError as exc:
        raise ValidationFailed.on("document", f"this e-invoice cannot be made yet: {exc}") from None
    name = f"{invoice.number}{'-ubl' if kind == 'ubl' else '-facturx' if kind == 'facturx' else ''}.{spec.suffix}"
    return name, spec.media_type, content
