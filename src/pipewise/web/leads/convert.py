"""Lead conversion from the lead's page: the lead becomes a contact at an account and,
unless the rep unticks it, an open deal — through lead_service.convert."""

import uuid

from fastapi import Request, Response

from pipewise.errors import Conflict, ValidationFailed
from pipewise.leads.service import lead_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, web_router

router = web_router()


@router.post("/leads/{lead_id}/convert")
def convert(lead_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    create_deal = form.get("create_deal") == "on"
    try:
        with session.begin_nested():
            result = lead_service.convert(session, lead_id, actor=me.actor, create_deal=create_deal)
    except (ValidationFailed, Conflict) as exc:
        flash(request, "Could not convert: " + ("; ".join(e.message for e in exc.errors) or exc.detail), "error")
        return redirect(f"/leads/{lead_id}")
    deal = result["deal"]
    flash(request, "Lead converted" + (" and a deal opened." if deal else "."))
    return redirect(f"/deals/{deal.id}" if deal else f"/contacts/{result['contact'].id}")
