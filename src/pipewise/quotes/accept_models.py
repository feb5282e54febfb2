"""The accept link of a sent quote revision: the nonce its signed token must carry, when
the link stops working, and how often the buyer opened it."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pipewise.db.base import Base, Timestamps


class QuoteLink(Timestamps, Base):
    """One row per sent revision. A token names the revision and this nonce, so a token
    made for another revision (or before a resend with a new nonce) matches nothing."""

    __tablename__ = "quote_link"

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    view_count: Mapped[int] = mapped_column(default=0)
    last_viewed_at: Mapped[datetime | None]
