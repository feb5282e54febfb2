"""The quote events subscribers take. The record kernel writes ``quote.created``,
``quote.updated`` and ``quote.deleted``; the facts below are sales signals (the buyer saw,
accepted or declined a quote) and steps of the approval, each stored once under its own
name. They carry the deal, so sequences, workflows and the timeline can follow it."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from pipewise.events.base import DomainEvent, RecordEvent


@dataclass(frozen=True, kw_only=True)
class QuoteCreated(RecordEvent):
    name: ClassVar[str] = "quote.created"


@dataclass(frozen=True, kw_only=True)
class QuoteUpdated(RecordEvent):
    name: ClassVar[str] = "quote.updated"


@dataclass(frozen=True, kw_only=True)
class QuoteDeleted(RecordEvent):
    name: ClassVar[str] = "quote.deleted"


@dataclass(frozen=True, kw_only=True)
class QuoteFact(DomainEvent):
    record_type: ClassVar[str | None] = "quote"

    deal_id: uuid.UUID
    number: str
    revision: int
    contact_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteApprovalRequested(QuoteFact):
    name: ClassVar[str] = "quote.approval_requested"

    approval_id: uuid.UUID
    discount_percent: Decimal
    threshold_percent: Decimal
    approver_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteApprovalDecided(QuoteFact):
    name: ClassVar[str] = "quote.approval_decided"

    approval_id: uuid.UUID
    decision: str  # approved | rejected
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteSent(QuoteFact):
    name: ClassVar[str] = "quote.sent"

    gross_total: Decimal
    currency: str
    valid_until: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteViewed(QuoteFact):
    name: ClassVar[str] = "quote.viewed"

    first_view: bool = True


@dataclass(frozen=True, kw_only=True)
class QuoteAccepted(QuoteFact):
    name: ClassVar[str] = "quote.accepted"

    gross_total: Decimal
    currency: str
    signer_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteDeclined(QuoteFact):
    name: ClassVar[str] = "quote.declined"

    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteExpired(QuoteFact):
    name: ClassVar[str] = "quote.expired"
