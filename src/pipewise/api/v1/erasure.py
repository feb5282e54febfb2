"""Erasing a person (admins): ``POST /contacts/{id}/erase``, with a dry run that counts
what would change, per place, and changes nothing."""

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.privacy import erasure

router = api_router(tags=["privacy"])


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(False, description="count what would be erased, per place, and change nothing")


class ErasureOut(BaseModel):
    contact_id: uuid.UUID
    dry_run: bool
    already_erased: bool = Field(description="the contact was erased before: nothing changed, `counts` are that erasure's")
    pseudonym: str | None = Field(description="what the person's name became everywhere")
    counts: dict[str, int] = Field(description="rows (or files) changed per place: a table, or a kind of row")


@router.post("/contacts/{contact_id}/erase", response_model=ErasureOut,
             summary="Erase a contact and everything about them (admins); dry_run counts first")
def erase_contact(contact_id: uuid.UUID, session: DbSession, actor: CurrentActor, body: EraseRequest | None = None) -> Any:
    outcome = erasure.erase(session, contact_id, actor=actor, dry_run=body.dry_run if body is not None else False)
    return ErasureOut(contact_id=outcome.contact_id, dry_run=outcome.dry_run, already_erased=outcome.already_erased,
                      pseudonym=outcome.pseudonym, counts=outcome.counts)
