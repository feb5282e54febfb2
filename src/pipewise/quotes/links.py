"""The signed accept link of a sent quote revision.

A token is ``itsdangerous`` over ``{"q": quote id, "r": revision, "n": nonce}`` with the
installation's secret key and its own salt, stamped with the time it was made. It is
good while the link row says so (``expires_at``: the company's ``quote_link_days`` from
sending) and only for the revision and nonce it names: a token of another revision, an
edited one, or a forged one matches nothing."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from pipewise.config import get_settings
from pipewise.quotes.accept_models import QuoteLink
from pipewise.quotes.models import Quote

SALT = "pipewise.quotes.accept-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=SALT)


def issue(session: Session, quote: Quote, *, now: datetime, days: int) -> QuoteLink:
    """The link row of a revision being sent (a resend keeps the nonce, renews the term)."""
    link = session.get(QuoteLink, quote.id)
    if link is None:
        link = QuoteLink(quote_id=quote.id, nonce=secrets.token_hex(16), expires_at=now, view_count=0)
        session.add(link)
    link.expires_at = now + timedelta(days=days)
    session.flush()
    return link


def token_for(quote: Quote, link: QuoteLink) -> str:
    return _serializer().dumps({"q": quote.id.hex, "r": quote.revision, "n": link.nonce})


@dataclass(frozen=True)
class Claim:
    quote_id: uuid.UUID
    revision: int
    nonce: str


def read(token: str) -> Claim | None:
    """What a token claims if its signature holds (not yet whether it is still good)."""
    if not token or len(token) > 400:
        return None
    try:
        value = _serializer().loads(token)
        return Claim(uuid.UUID(hex=value["q"]), int(value["r"]), str(value["n"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
