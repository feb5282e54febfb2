"""The stage bar on a deal's page: a click on a stage (or on Won / Lost) moves the deal
through the same service as the board. A refused move opens the deal's form with that
stage chosen and says which fields the stage needs."""

import uuid

from fastapi import Request, Response

from pipewise.deals.service import deal_service, stage_service
from pipewise.errors import ValidationFailed
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, web_router
from pipewise.web.forms import parse_uuid

router = web_router()
LOST_REASON_LIMIT = 2000


@router.post("/deals/{deal_id}/stage")
def set_stage(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    stage_id = parse_uuid(str(form.get("stage_id") or ""))
    if stage_id is None:
        flash(request, "Choose a stage to move the deal to.", "error")
        return redirect(f"/deals/{deal_id}")
    data: dict[str, object] = {"stage_id": stage_id}
    lost_reason = str(form.get("lost_reason") or "").strip()[:LOST_REASON_LIMIT]
    if lost_reason:
        data["lost_reason"] = lost_reason
    deal = deal_service.get(session, deal_id, actor=me.actor, write=True)
    try:
        with session.begin_nested():
            deal_service.update(session, deal, data=data, actor=me.actor)
            session.flush()
    except ValidationFailed as exc:
        flash(request, " ".join(e.message for e in exc.errors) or exc.detail, "error")
        return redirect(f"/deals/{deal_id}/edit?stage_id={stage_id}")
    flash(request, f"“{deal.name}” is now in {stage_service.get(session, deal.stage_id, actor=me.actor).name}.")
    return redirect(f"/deals/{deal_id}")
