"""The pricing guard: while a contact or its account has an open sent quote, automated
e-mail that talks about price (a template flagged ``mentions_pricing``, or a price found
in the text) would contradict what the rep quoted, so it is held with the reason
"open quote Q-… at €…".

Found in the text: a currency amount (``€1,200``, ``1.200,00 EUR``, ``$99``, ``USD 49``,
``£5.50``) or a percent-off phrase (``20% off``, ``save 15 %``, ``10 % discount``). A
plain number or percentage (``99 % uptime``) is not a price."""

import re
import uuid

from babel.numbers import format_currency
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pipewise.db.base import utcnow
from pipewise.quotes.models import Quote

_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CODES = r"EUR|USD|GBP|CHF|CAD|AUD|JPY|SEK|NOK|DKK|PLN|CZK"
_SYMBOLS = r"[€$£¥]"
PRICE = re.compile(
    rf"(?:{_SYMBOLS}\s?(?:{_NUMBER}))"
    rf"|(?:(?<![\w.,])(?:{_NUMBER})\s?(?:{_SYMBOLS}|\b(?:{_CODES})\b))"
    rf"|(?:\b(?:{_CODES})\s?(?:{_NUMBER}))",
    re.IGNORECASE,
)
PERCENT_OFF = re.compile(
    r"\d{1,3}(?:[.,]\d+)?\s?%\s?(?:off|discount|rebate|reduction|rabatt|cheaper)\b"
    r"|\b(?:save|saving|discount of|get|extra|up to)\s+\d{1,3}(?:[.,]\d+)?\s?%",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")


def detected_price(*texts: str | None) -> str | None:
    """The first price or percent-off phrase in the texts (HTML tags ignored), or None."""
    for text in texts:
        plain = _TAG.sub(" ", text or "").replace("&nbsp;", " ").replace("&euro;", "€")
        found = PRICE.search(plain) or PERCENT_OFF.search(plain)
        if found:
            return found.group(0).strip()
    return None


def open_quote(session: Session, *, contact_id: uuid.UUID | None, account_id: uuid.UUID | None) -> Quote | None:
    """The newest sent, unexpired quote to the contact or its account."""
    who = [Quote.contact_id == contact_id] if contact_id else []
    if account_id:
        who.append(Quote.account_id == account_id)
    if not who:
        return None
    today = utcnow().date()
    return session.scalars(
        select(Quote)
        .where(Quote.status == "sent", or_(*who), or_(Quote.valid_until.is_(None), Quote.valid_until >= today))
        .order_by(Quote.sent_at.desc())
        .limit(1)
    ).first()


def amount_text(quote: Quote) -> str:
    return format_currency(quote.gross_total, quote.currency, locale="en")


def hold_reason(
    session: Session, *, contact_id: uuid.UUID | None, account_id: uuid.UUID | None, flagged: bool,
    subject: str | None, body: str | None,
) -> tuple[str, Quote] | None:
    """Why an automated e-mail must be held, and the quote it would contradict."""
    if not flagged and detected_price(subject, body) is None:
        return None
    quote = open_quote(session, contact_id=contact_id, account_id=account_id)
    if quote is None:
        return None
    return f"open quote {quote.number} at {amount_text(quote)}", quote
