"""Sending a quote to the buyer (POST /quotes/{id}/send) and what came of it: the accept
link, its views and the buyer's answer (GET /quotes/{id}/acceptance)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Request
from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.crud import body_bytes, run_idempotent
from pipewise.mail.settings import get_mail_settings
from pipewise.quotes import acceptance, links, sending
from pipewise.schemas import InputModel, OutputModel

router = api_router(tags=["quotes"])


class QuoteSend(InputModel):
    to: Annotated[str, Field(max_length=254)] | None = Field(None, description="the recipient; the quote's contact when left out")
    message: Annotated[str, Field(max_length=sending.MESSAGE_LIMIT)] | None = None


class QuoteSent(OutputModel):
    id: uuid.UUID
    number: str
    revision: int
    status: str
    sent_at: datetime | None
    valid_until: date | None
    gross_total: Decimal
    currency: str
    pdf_sha256: str | None


@router.post(
    "/quotes/{quote_id}/send", response_model=QuoteSent, summary="Send a quote (PDF attached, signed accept link)",
    responses={409: {"description": "the quote waits for approval or was already sent"}},
)
def send_quote(quote_id: uuid.UUID, body: QuoteSend, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        quote = sending.send_quote(session, quote_id, actor, to=body.to, message=body.message)
        return QuoteSent.model_validate(sending.summary(quote)).model_dump(mode="json")

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


class BuyerAnswer(OutputModel):
    decision: str
    signer_name: str | None
    has_signature: bool
    selected_line_ids: list[str]
    reason: str | None
    ip_address: str | None
    user_agent: str | None
    pdf_sha256: str
    answered_at: datetime


class QuoteAcceptance(QuoteSent):
    accept_url: str | None = Field(description="the buyer's link, while it works")
    link_expires_at: datetime | None
    first_viewed_at: datetime | None
    view_count: int
    answer: BuyerAnswer | None


@router.get("/quotes/{quote_id}/acceptance", response_model=QuoteAcceptance, summary="A sent quote's link, views and the buyer's answer")
def quote_acceptance(quote_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    quote = sending.visible_quote(session, quote_id, actor=actor, write=False)
    found = acceptance.status_of(session, quote)
    link, answer = found.link, found.response
    usable = link is not None and quote.status == "sent"
    return QuoteAcceptance(
        **sending.summary(quote),
        accept_url=f"{get_mail_settings().public_url.rstrip('/')}/q/{links.token_for(quote, link)}" if usable else None,
        link_expires_at=link.expires_at if link else None,
        first_viewed_at=quote.first_viewed_at,
        view_count=link.view_count if link else 0,
        answer=BuyerAnswer(
            decision=answer.decision, signer_name=answer.signer_name, has_signature=answer.signature_png is not None,
            selected_line_ids=answer.selected_line_ids, reason=answer.reason, ip_address=answer.ip_address,
            user_agent=answer.user_agent, pdf_sha256=answer.pdf_sha256, answered_at=answer.created_at,
        ) if answer else None,
    )
