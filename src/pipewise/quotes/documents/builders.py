"""Documents from the database: a quote (its lines, the deal's account and contact, the
company settings) as a ``Document`` and as the PDF the buyer is sent."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.crm.models import Account, Contact
from pipewise.db.base import utcnow
from pipewise.quotes.documents.model import Document, DocumentLine, Party, priced
from pipewise.quotes.documents.render import render_pdf
from pipewise.quotes.models import CompanySettings, Quote, QuoteLine
from pipewise.quotes.money import Rounding
from pipewise.quotes.settings import company_settings

# Account custom fields a document reads the buyer's address and tax ids from, when set.
BUYER_FIELDS = ("street", "city", "postcode", "vat_id", "company_id", "electronic_address", "electronic_scheme")


def seller_party(settings: CompanySettings) -> Party:
    return Party(
        name=settings.legal_name or settings.name,
        street=settings.street,
        city=settings.city,
        postcode=settings.postcode,
        country=settings.country,
        vat_id=settings.vat_id,
        company_id=settings.company_id,
        email=settings.email,
        phone=settings.phone,
    )


def buyer_party(account: Account | None, contact: Contact | None, *, default_country: str) -> Party:
    """The buyer: the account, reached through the contact. An account's address and tax
    ids come from its custom fields of the same names (``BUYER_FIELDS``)."""
    custom: dict[str, Any] = dict(account.custom or {}) if account is not None else {}
    extra = {key: str(custom[key]) for key in BUYER_FIELDS if custom.get(key)}
    name = account.name if account is not None else (contact.full_name if contact is not None else "")
    return Party(
        name=name,
        country=(account.country if account is not None and account.country else default_country),
        email=contact.email if contact is not None else None,
        phone=contact.phone if contact is not None else None,
        contact_name=contact.full_name if contact is not None and account is not None else None,
        **extra,
    )


def quote_document(session: Session, quote: Quote) -> Document:
    """The quote as a document. The caller has already checked the actor may see it."""
    settings = company_settings(session)
    account = session.get(Account, quote.account_id) if quote.account_id else None
    contact = session.get(Contact, quote.contact_id) if quote.contact_id else None
    rows = session.scalars(
        select(QuoteLine).where(QuoteLine.quote_id == quote.id).order_by(QuoteLine.position, QuoteLine.id)
    ).all()
    rounding = Rounding(quote.currency, quote.tax_mode, quote.rounding_mode)
    lines, totals = priced(
        (
            DocumentLine(
                name=row.name,
                description=row.description,
                quantity=row.quantity,
                unit=row.unit,
                unit_price=row.unit_price,
                discount_percent=row.discount_percent,
                tax_rate=row.tax_rate,
                optional=row.optional,
                selected=row.selected,
            )
            for row in rows
        ),
        rounding,
    )
    issued = (quote.sent_at or utcnow()).date()
    return Document(
        kind="quote",
        number=quote.number if quote.revision <= 1 else f"{quote.number}-{quote.revision}",
        issue_date=issued,
        currency=quote.currency,
        seller=seller_party(settings),
        buyer=buyer_party(account, contact, default_country=settings.country),
        lines=lines,
        totals=totals,
        rounding=rounding,
        language=quote.language or settings.language,
        title=quote.title,
        valid_until=quote.valid_until,
        terms=quote.terms,
        payment_terms=settings.payment_terms,
        brand_color=settings.brand_color,
        logo_svg=settings.logo_svg,
    )


def quote_pdf(session: Session, quote: Quote) -> bytes:
    """The PDF of the quote as the buyer sees it."""
    return render_pdf(quote_document(session, quote))
