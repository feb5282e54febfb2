"""The pipeline board (kanban) and the deal pages beyond plain editing. A card dropped
on another column goes through deal_service.move_to_stage, exactly like the API; when
the stage's entry criteria are not met the board comes back unchanged, saying why."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.deals import health as deal_health
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import deal_service, pipeline_service, stage_service
from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.records.repository import MAX_PAGE, ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.formatting import sum_by_currency
from pipewise.web.forms import parse_uuid
from pipewise.web.lookups import Lookups

router = web_router()
# Won and lost columns show what closed recently; older closed deals live in the list.
CLOSED_SHOWN_DAYS = 30


@dataclass
class BoardColumn:
    stage: Stage
    deals: list[Any] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, Decimal]:
        return sum_by_currency(self.deals)


@dataclass
class Notice:
    kind: str  # success | error
    messages: list[str]
    deal_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None


def board_context(session: Session, me: WebUser, pipeline: Pipeline) -> dict[str, Any]:
    lookups = Lookups(session, me.actor)
    stages = pipeline_service.stages(session, pipeline.id)
    shown = {
        "all": [
            {"field": "pipeline_id", "op": "eq", "value": str(pipeline.id)},
            {
                "any": [
                    {"field": "stage.kind", "op": "eq", "value": "open"},
                    {"field": "closed_at", "op": "within_last_days", "value": CLOSED_SHOWN_DAYS},
                ]
            },
        ]
    }
    page = deal_service.list(session, actor=me.actor, query=ListQuery(filter=shown, sort="-amount", limit=MAX_PAGE))
    columns = {stage.id: BoardColumn(stage) for stage in stages}
    for deal in page.items:
        if deal.stage_id in columns:
            columns[deal.stage_id].deals.append(deal)
    lookups.load_accounts(d.account_id for d in page.items)
    return {
        "pipeline": pipeline,
        "columns": list(columns.values()),
        "stages": stages,
        "truncated": page.next_cursor is not None,
        "lookups": lookups,
        "closed_days": CLOSED_SHOWN_DAYS,
        "health": deal_health.assess(session, page.items),
    }


@router.get("/pipeline")
def default_board(request: Request, session: DbSession, me: CurrentUser) -> Response:
    pipeline = pipeline_service.default(session)
    if pipeline is None:
        return render(request, "board/board.html", {"pipeline": None, "pipelines": []})
    return redirect(f"/pipelines/{pipeline.id}/board")


@router.get("/pipelines/{pipeline_id}/board")
def board(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor)
    ctx = board_context(session, me, pipeline)
    ctx["pipelines"] = ctx["lookups"].pipelines
    return render(request, "board/board.html", ctx)


@router.post("/pipelines/{pipeline_id}/board/move")
def move(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor)
    deal_id = parse_uuid(str(form.get("deal_id") or ""))
    stage_id = parse_uuid(str(form.get("stage_id") or ""))
    status = 200
    try:
        if deal_id is None or stage_id is None:
            raise ValidationFailed.on("stage_id", "choose a deal and a stage to move it to")
        with session.begin_nested():
            deal = deal_service.move_to_stage(session, deal_id, stage_id, actor=me.actor)
            session.flush()
        stage = stage_service.get(session, deal.stage_id, actor=me.actor)
        notice = Notice("success", [f"“{deal.name}” moved to {stage.name}."])
    except ValidationFailed as exc:
        status = 422
        notice = Notice("error", [e.message for e in exc.errors] or [exc.detail], deal_id, stage_id)
    except PipewiseError as exc:
        status = exc.status
        notice = Notice("error", [exc.detail])
    ctx = board_context(session, me, pipeline)
    ctx["notice"] = notice
    return render(request, "board/_board.html", ctx, status_code=status)


@router.post("/deals/{deal_id}/contacts")
def add_contact(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    contact_id = parse_uuid(str(form.get("contact_id") or ""))
    role = str(form.get("role") or "").strip()[:60] or None
    try:
        if contact_id is None:
            raise ValidationFailed.on("contact_id", "choose a contact")
        deal_service.add_contact(session, deal_id, contact_id, role=role, actor=me.actor)
    except ValidationFailed as exc:
        flash(request, "; ".join(e.message for e in exc.errors) or exc.detail, "error")
    else:
        flash(request, "Contact added to the deal.")
    return redirect(f"/deals/{deal_id}")
