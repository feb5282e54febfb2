"""The contact page's "Erase personal data" button (admins; the page asks to confirm)."""

import uuid

from fastapi import Request
from fastapi.responses import Response

from pipewise.privacy import erasure
from pipewise.web.common import CurrentUser, DbSession, flash, redirect, web_router

router = web_router()


@router.post("/contacts/{contact_id}/erase")
def erase_contact(contact_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    outcome = erasure.erase(session, contact_id, actor=me.actor)
    done = "was already erased" if outcome.already_erased else "was erased everywhere"
    flash(request, f"The contact {done}: now “{outcome.pseudonym}”.")
    return redirect(f"/contacts/{contact_id}")
