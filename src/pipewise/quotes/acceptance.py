"""The buyer's side of a sent quote: opening the accept link, ticking optional lines,
accepting (typed name, optionally a drawn signature) or declining with a reason, and a
quote running out of time.

Every answer is checked against the live quote under a row lock: a token that was
forged or altered, a link past its term, a revision replaced by a newer one, a quote
past its validity, or one already answered is refused with its own status (404, 410,
409), so a replayed post changes nothing. An acceptance stores who, when, from which
address and browser, the optional lines ticked and the SHA-256 of the exact PDF shown,
recomputes the totals of the accepted version, and moves the deal to the company's
accepted stage through the deal service (stage history, workflows and sequences see it)."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from babel import UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal
from pipewise.deals.service import deal_service
from pipewise.errors import Conflict, ErrorCollector, NotFound, PipewiseError
from pipewise.events import bus
from pipewise.notifications.service import notify
from pipewise.quotes import links, money
from pipewise.quotes.accept_models import QuoteLink
from pipewise.quotes.events import QuoteAccepted, QuoteDeclined, QuoteExpired, QuoteViewed
from pipewise.quotes.models import Quote, QuoteLine, QuoteResponse
from pipewise.quotes.sending import tell_owner
from pipewise.quotes.settings import company_settings

SIGNATURE_LIMIT = 200_000  # bytes of PNG
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAME_LIMIT = 200
REASON_LIMIT = 2000


class Gone(PipewiseError):
    status = 410
    title = "This link no longer works"


INVALID = "This link is not valid. Use the link in the e-mail you received, or ask your contact for a new one."


@dataclass(frozen=True)
class Opened:
    quote: Quote
    link: QuoteLink
    lines: list[QuoteLine]

    @property
    def answered(self) -> bool:
        return self.quote.status in ("accepted", "declined")


def open_link(session: Session, token: str, *, lock: bool = False) -> Opened:
    """The quote a token opens, or the refusal: 404 for a token that is not ours, 410
    for one that ran out or names a replaced revision. An answered quote opens (its page
    shows the answer); answering it again is refused by ``accept``/``decline``."""
    claim = links.read(token)
    quote = session.get(Quote, claim.quote_id, with_for_update=lock) if claim else None
    link = session.get(QuoteLink, quote.id) if quote else None
    if claim is None or quote is None or link is None or link.nonce != claim.nonce or quote.revision != claim.revision:
        raise NotFound(INVALID)
    if quote.status == "superseded":
        raise Gone(f"Quote {quote.number} was revised after this link was sent; the newer version has its own link.")
    if quote.status not in ("sent", "accepted", "declined", "expired"):
        raise NotFound(INVALID)
    if link.expires_at < utcnow() and quote.status == "sent":
        raise Gone(f"This link to quote {quote.number} has run out. Ask your contact to send it again.")
    lines = list(session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id).order_by(QuoteLine.position, QuoteLine.id)))
    return Opened(quote, link, lines)


def is_past_validity(quote: Quote) -> bool:
    return quote.status == "expired" or (quote.valid_until is not None and quote.valid_until < utcnow().date())


def _fact(quote: Quote) -> dict[str, object]:
    return {
        "record_id": quote.id, "deal_id": quote.deal_id, "number": quote.number, "revision": quote.revision,
        "contact_id": quote.contact_id, "account_id": quote.account_id,
    }


def record_view(session: Session, token: str) -> Opened:
    """Count an opening of the page; the first one is stamped on the quote."""
    opened = open_link(session, token, lock=True)
    quote, link = opened.quote, opened.link
    if quote.status != "sent":
        return opened
    now = utcnow()
    first = quote.first_viewed_at is None
    if first:
        quote.first_viewed_at = now
    link.view_count += 1
    link.last_viewed_at = now
    bus.record(session, QuoteViewed(**_fact(quote), first_view=first, data={"view": link.view_count}))  # type: ignore[arg-type]
    session.flush()
    return opened


def selection(lines: list[QuoteLine], ticked: set[str]) -> dict[uuid.UUID, bool]:
    """Which lines count: every fixed line, and the optional ones ticked."""
    return {line.id: (not line.optional) or line.id.hex in ticked or str(line.id) in ticked for line in lines}


def totals_for(quote: Quote, lines: list[QuoteLine], chosen: dict[uuid.UUID, bool]) -> money.Totals:
    rounding = money.Rounding(quote.currency, quote.tax_mode, quote.rounding_mode)
    return money.totals(
        (money.Line(line.quantity, line.unit_price, line.discount_percent, line.tax_rate) for line in lines if chosen[line.id]),
        rounding,
    )


@dataclass(frozen=True)
class Answer:
    """What the buyer posted, and where from."""

    ticked: frozenset[str] = frozenset()
    signer_name: str = ""
    signature_png: bytes | None = None
    reason: str = ""
    ip_address: str | None = None
    user_agent: str | None = None


def _answerable(session: Session, token: str) -> Opened:
    opened = open_link(session, token, lock=True)
    quote = opened.quote
    if opened.answered:
        raise Conflict(f"Quote {quote.number} was already {quote.status} on {quote.answered_at:%d %b %Y}; it cannot be answered again.")
    if is_past_validity(quote):
        raise Gone(f"Quote {quote.number} was valid until {quote.valid_until:%d %b %Y} and can no longer be accepted.")
    return opened


def _response(quote: Quote, decision: str, answer: Answer, **extra: object) -> QuoteResponse:
    return QuoteResponse(
        quote_id=quote.id, decision=decision, ip_address=(answer.ip_address or "")[:45] or None,
        user_agent=(answer.user_agent or "")[:400] or None, pdf_sha256=quote.pdf_sha256 or "", **extra,
    )


def _check_answer(answer: Answer, *, accepting: bool) -> None:
    errors = ErrorCollector()
    name = answer.signer_name.strip()
    if accepting and not name:
        errors.add("signer_name", "type your full name to accept")
    if len(name) > NAME_LIMIT:
        errors.add("signer_name", f"at most {NAME_LIMIT} characters")
    if answer.signature_png is not None:
        if len(answer.signature_png) > SIGNATURE_LIMIT:
            errors.add("signature", f"the drawn signature is larger than {SIGNATURE_LIMIT // 1000} kB")
        elif not answer.signature_png.startswith(PNG_MAGIC):
            errors.add("signature", "is not a PNG image")
    if not accepting and not answer.reason.strip():
        errors.add("reason", "tell us why, so we can do better")
    if len(answer.reason) > REASON_LIMIT:
        errors.add("reason", f"at most {REASON_LIMIT} characters")
    errors.raise_if_any()


def owner_actor(session: Session, owner_id: uuid.UUID | None) -> Actor:
    """What follows a buyer's answer (the deal's move, the order) acts with the quote owner's
    rights (an inactive or missing owner: the system)."""
    owner = session.get(User, owner_id) if owner_id else None
    return Actor.for_user(session, owner) if owner is not None and owner.is_active else SYSTEM_ACTOR


def move_deal(session: Session, quote: Quote) -> str | None:
    """Move the deal to the company's accepted stage; returns why it stayed, if it did."""
    stage_id = company_settings(session).accepted_stage_id
    deal = session.get(Deal, quote.deal_id)
    if stage_id is None or deal is None or deal.stage_id == stage_id:
        return None
    try:
        with session.begin_nested():
            deal_service.move_to_stage(session, deal.id, stage_id, actor=owner_actor(session, quote.owner_id))
    except PipewiseError as exc:
        return exc.detail
    return None


def accept(session: Session, token: str, answer: Answer) -> Quote:
    _check_answer(answer, accepting=True)
    opened = _answerable(session, token)
    quote, lines = opened.quote, opened.lines
    chosen = selection(lines, set(answer.ticked))
    totals = totals_for(quote, lines, chosen)
    amounts = iter(totals.lines)
    for line in lines:
        line.selected = chosen[line.id]
        if line.selected:
            line.net_amount = next(amounts).net
    quote.net_total, quote.tax_total, quote.gross_total = totals.net, totals.tax, totals.gross
    quote.discount_total = totals.discount
    quote.status, quote.answered_at = "accepted", utcnow()
    name = answer.signer_name.strip()
    session.add(_response(
        quote, "accepted", answer, signer_name=name, signature_png=answer.signature_png,
        selected_line_ids=[str(line.id) for line in lines if line.optional and line.selected],
    ))
    session.flush()
    stayed = move_deal(session, quote)
    if stayed:
        tell_owner(session, quote, f"Quote {quote.number} was accepted but its deal stayed where it is", stayed)
    _notify_owner(session, quote, "quote_accepted", f"{name} accepted quote {quote.number}")
    bus.record(session, QuoteAccepted(
        **_fact(quote), gross_total=totals.gross, currency=quote.currency, signer_name=name,  # type: ignore[arg-type]
        data={"deal_not_moved": stayed} if stayed else {},
    ))
    session.flush()
    return quote


def _notify_owner(session: Session, quote: Quote, kind: str, title: str, *, body: str | None = None) -> None:
    if quote.owner_id is not None:
        notify(session, quote.owner_id, kind, title, body=body, link=f"/quotes/{quote.id}", record_type="quote",
               record_id=quote.id, key=f"{kind}:{quote.id}")


def decline(session: Session, token: str, answer: Answer) -> Quote:
    _check_answer(answer, accepting=False)
    quote = _answerable(session, token).quote
    quote.status, quote.answered_at = "declined", utcnow()
    reason = answer.reason.strip()
    session.add(_response(quote, "declined", answer, signer_name=answer.signer_name.strip() or None, reason=reason))
    _notify_owner(session, quote, "quote_declined", f"Quote {quote.number} was declined", body=reason or None)
    bus.record(session, QuoteDeclined(**_fact(quote), reason=reason))  # type: ignore[arg-type]
    session.flush()
    return quote


def expire(session: Session, quote_id: uuid.UUID) -> bool:
    """Mark a sent quote past its validity as expired, once; True if this call did."""
    quote = session.get(Quote, quote_id, with_for_update=True)
    if quote is None or quote.status != "sent" or quote.valid_until is None or quote.valid_until >= utcnow().date():
        return False
    quote.status = "expired"
    bus.record(session, QuoteExpired(**_fact(quote)))  # type: ignore[arg-type]
    session.flush()
    return True


def response_of(session: Session, quote_id: uuid.UUID) -> QuoteResponse | None:
    return session.scalar(select(QuoteResponse).where(QuoteResponse.quote_id == quote_id))


def money_text(amount: Decimal, currency: str, language: str = "en") -> str:
    """An amount as the buyer's locale writes it (€1,140.00; 1.140,00 €); a unit price's
    extra decimals (0.0125) are kept."""
    try:
        return format_currency(amount.normalize(), currency, locale=language, decimal_quantization=False)
    except (UnknownLocaleError, ValueError):
        return format_currency(amount.normalize(), currency, locale="en", decimal_quantization=False)


def number_text(value: Decimal, language: str = "en") -> str:
    """A quantity or a percentage without trailing zeros, as the locale writes it."""
    try:
        return format_decimal(value.normalize(), locale=language, decimal_quantization=False)
    except (UnknownLocaleError, ValueError):
        return format_decimal(value.normalize(), locale="en", decimal_quantization=False)


@dataclass(frozen=True)
class Status:
    """What the rep sees of a sent quote's link and the buyer's answer."""

    quote: Quote
    link: QuoteLink | None
    response: QuoteResponse | None


def status_of(session: Session, quote: Quote) -> Status:
    return Status(quote, session.get(QuoteLink, quote.id), response_of(session, quote.id))
