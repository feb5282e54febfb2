"""Sending a quote: the rep's rights and the status contract are checked, the revision is
frozen (status ``sent``, its validity defaulted), its PDF rendered once and kept with its
SHA-256 (the exact document the buyer is e-mailed and later sees), an accept link issued,
and ``quote.sent`` recorded. The mail package answers that event with the e-mail (the
PDF attached, the link in the text) through the one mail path, from the worker."""

import hashlib
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.crm.models import Contact
from pipewise.crm.service import task_service
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal
from pipewise.deals.service import deal_service
from pipewise.errors import Conflict, ErrorCollector, NotFound
from pipewise.events import bus
from pipewise.quotes import links
from pipewise.quotes.accept_models import QuoteLink
from pipewise.quotes.documents.builders import quote_pdf
from pipewise.quotes.events import QuoteSent
from pipewise.quotes.models import Quote
from pipewise.quotes.settings import company_settings

SENDABLE = ("draft", "approved")
# A sent revision and every answer to it are frozen: editing makes a new revision.
FROZEN = ("sent", "accepted", "declined", "expired", "superseded")
EXPIRE_ACTION = "quotes.expire"
MESSAGE_LIMIT = 5000


def visible_quote(session: Session, quote_id: uuid.UUID, *, actor: Actor, write: bool) -> Quote:
    """The quote if ``actor`` may see its deal (and change it when ``write``); a quote
    whose deal is hidden answers exactly like one that does not exist."""
    quote = session.get(Quote, quote_id, with_for_update=write)
    if quote is None:
        raise NotFound(f"no quote with id {quote_id}")
    try:
        deal_service.get(session, quote.deal_id, actor=actor, write=write)
    except NotFound:
        raise NotFound(f"no quote with id {quote_id}") from None
    return quote


def check_editable(quote: Quote) -> None:
    """What edit paths call: a frozen revision answers 409."""
    if quote.status in FROZEN:
        raise Conflict(f"quote {quote.number} revision {quote.revision} is {quote.status} and can no longer be changed")


def _recipient(session: Session, quote: Quote, to: str | None, errors: ErrorCollector) -> str | None:
    address = (to or "").strip()
    if not address:
        contact = session.get(Contact, quote.contact_id) if quote.contact_id else None
        address = (contact.email or "") if contact else ""
        if not address:
            errors.add("to", "the quote has no contact with an e-mail address; give one")
            return None
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        errors.add("to", str(exc))
        return None


def expiry_moment(valid_until: date) -> datetime:
    """A quote is good through its last day (UTC) and expires when the next one begins."""
    return datetime.combine(valid_until + timedelta(days=1), time.min).replace(tzinfo=utcnow().tzinfo)


def send_quote(
    session: Session, quote_id: uuid.UUID, actor: Actor, to: str | None = None, message: str | None = None,
) -> Quote:
    quote = visible_quote(session, quote_id, actor=actor, write=True)
    if quote.status == "pending_approval":
        raise Conflict(f"quote {quote.number} waits for a manager's approval of its discount and cannot be sent yet")
    if quote.status not in SENDABLE:
        raise Conflict(f"quote {quote.number} revision {quote.revision} is {quote.status}; only a draft or an approved quote can be sent")
    settings = company_settings(session)
    now = utcnow()
    errors = ErrorCollector()
    address = _recipient(session, quote, to, errors)
    if message is not None and len(message) > MESSAGE_LIMIT:
        errors.add("message", f"at most {MESSAGE_LIMIT} characters")
    valid_until = quote.valid_until or (now.date() + timedelta(days=settings.quote_valid_days))
    if valid_until < now.date():
        errors.add("valid_until", "lies in the past; set a new validity before sending")
    errors.raise_if_any()

    quote.status, quote.sent_at, quote.valid_until = "sent", now, valid_until
    session.flush()
    pdf = quote_pdf(session, quote)
    quote.pdf, quote.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
    links.issue(session, quote, now=now, days=settings.quote_link_days)
    bus.schedule(
        session, key=f"{EXPIRE_ACTION}:{quote.id}", kind=EXPIRE_ACTION, run_at=expiry_moment(valid_until),
        payload={"quote_id": str(quote.id)},
    )
    bus.record(session, QuoteSent(
        record_id=quote.id, actor_id=actor.id, deal_id=quote.deal_id, number=quote.number, revision=quote.revision,
        contact_id=quote.contact_id, account_id=quote.account_id, gross_total=quote.gross_total, currency=quote.currency,
        valid_until=valid_until.isoformat(), data={"to": address, "message": (message or "").strip() or None},
    ))
    session.flush()
    return quote


def accept_token(session: Session, quote: Quote) -> str | None:
    """The token of a sent revision's accept link (None before it is sent)."""
    link = session.get(QuoteLink, quote.id)
    return links.token_for(quote, link) if link is not None else None


def summary(quote: Quote) -> dict[str, Any]:
    return {
        "id": quote.id, "number": quote.number, "revision": quote.revision, "status": quote.status,
        "sent_at": quote.sent_at, "valid_until": quote.valid_until, "gross_total": quote.gross_total,
        "currency": quote.currency, "pdf_sha256": quote.pdf_sha256,
    }


def tell_owner(session: Session, quote: Quote, title: str, notes: str) -> None:
    """A task for the quote's owner (or the deal's), on the deal, due now."""
    deal = session.get(Deal, quote.deal_id)
    owner_id = quote.owner_id or (deal.owner_id if deal else None)
    task_service.create(session, data={
        "title": title[:300], "notes": notes, "owner_id": owner_id, "due_at": utcnow(), "priority": "high",
        "related_type": "deal", "related_id": quote.deal_id,
    }, actor=SYSTEM_ACTOR)
