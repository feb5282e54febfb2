"""Lead conversion from the lead's page: the lead becomes a contact at an account and,
unless the rep unticks it, an open deal — through lead_service.convert."""

import uuid

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pipewise.api.deps import DbSession
from pipewise.errors import Conflict, ValidationFailed
from pipewise.leads.service import lead_service
from pipewise.web.common import CurrentUser, WebUser, flash, redirect, web_router

router = web_router()


def _convert(request: Request, session: Session, me: WebUser, form: FormData, lead_id: uuid.UUID) -> Response:
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


@router.post("/leads/{lead_id}/convert")
async def convert(lead_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_convert, request, session, me, await request.form(), lead_id)
