"""Sending a quote to the buyer: POST /quotes/{id}/send."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Request
from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.crud import body_bytes, run_idempotent
from pipewise.quotes import sending
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
