"""What sending and answering quotes add to the worker and the deal's timeline: the
expiry timer each sent revision schedules, and the sent / viewed / answered / expired
entries on its deal."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.events import bus
from pipewise.events.models import ScheduledAction
from pipewise.quotes import acceptance
from pipewise.quotes.accept_models import QuoteLink
from pipewise.quotes.models import Quote, QuoteResponse
from pipewise.quotes.sending import EXPIRE_ACTION
from pipewise.records.timeline import TimelineEntry


def run_expiry(session: Session, action: ScheduledAction) -> None:
    acceptance.expire(session, uuid.UUID(action.payload["quote_id"]))


TABLE = bus.HandlerTable(timers={EXPIRE_ACTION: bus.ActionKind(run_expiry)})


def _name(quote: Quote) -> str:
    return f"Quote {quote.number} (revision {quote.revision})"


def _entries(quote: Quote, link: QuoteLink | None, response: QuoteResponse | None) -> list[TimelineEntry]:
    data = {"quote_id": str(quote.id), "number": quote.number, "revision": quote.revision}
    total = acceptance.money_text(quote.gross_total, quote.currency)
    entries = [TimelineEntry(kind="quote", at=quote.sent_at, title=f"{_name(quote)} sent: {total}", data={**data, "event": "sent"})]
    if quote.first_viewed_at and link is not None:
        views = f"{link.view_count} view{'s' if link.view_count != 1 else ''}"
        entries.append(TimelineEntry(
            kind="quote", at=quote.first_viewed_at, title=f"{_name(quote)} first viewed by the buyer",
            detail=f"{views}, last {link.last_viewed_at:%d %b %Y %H:%M} UTC" if link.last_viewed_at else views,
            data={**data, "event": "viewed", "views": link.view_count},
        ))
    if response is not None and response.decision == "accepted":
        entries.append(TimelineEntry(
            kind="quote", at=response.created_at, title=f"{_name(quote)} accepted by {response.signer_name}: {total}",
            detail=f"from {response.ip_address or 'an unknown address'}; PDF SHA-256 {response.pdf_sha256[:16]}…",
            data={**data, "event": "accepted"},
        ))
    elif response is not None:
        entries.append(TimelineEntry(
            kind="quote", at=response.created_at, title=f"{_name(quote)} declined", detail=response.reason,
            data={**data, "event": "declined"},
        ))
    if quote.status == "expired":
        entries.append(TimelineEntry(
            kind="quote", at=quote.updated_at, title=f"{_name(quote)} expired unanswered",
            detail=f"valid until {quote.valid_until:%d %b %Y}", data={**data, "event": "expired"},
        ))
    return entries


def quote_timeline(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    if record_type != "deal":
        return []
    rows = session.execute(
        select(Quote, QuoteLink, QuoteResponse)
        .outerjoin(QuoteLink, QuoteLink.quote_id == Quote.id)
        .outerjoin(QuoteResponse, QuoteResponse.quote_id == Quote.id)
        .where(Quote.deal_id == record_id, Quote.sent_at.is_not(None))
        .order_by(Quote.sent_at.desc())
        .limit(100)
    )
    return [entry for quote, link, response in rows for entry in _entries(quote, link, response)]
