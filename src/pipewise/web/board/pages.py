"""The pipeline board (kanban) and the deal pages beyond plain editing. A card dropped
on another column goes through deal_service.move_to_stage, exactly like the API; when
the stage's entry criteria are not met the board comes back unchanged, saying why.

The board scales by paging: each open column shows its first ``COLUMN_PAGE`` deals
(largest first) and loads more on request, while its header counts every deal the
filters select (count, value, weighted value) in one grouped query. Won and lost stages
are drop zones under the columns, totalling what closed in the last ``CLOSED_SHOWN_DAYS``."""

import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.db.base import utcnow
from pipewise.deals import board as board_queries
from pipewise.deals import health as deal_health
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import deal_service, pipeline_service, stage_service
from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.records.repository import ListQuery, Page
from pipewise.web.board.stage_bar import router as stage_bar_router
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.formatting import initials
from pipewise.web.forms import parse_uuid
from pipewise.web.lookups import Lookups
from pipewise.web.records.scope import SCOPES, Scope, current_scope, owner_condition, remember

router = web_router()
router.include_router(stage_bar_router)
# Won and lost drop zones total what closed recently; older closed deals live in the list.
CLOSED_SHOWN_DAYS = 30
COLUMN_PAGE = 25
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass
class BoardColumn:
    stage: Stage
    totals: board_queries.StageTotals
    page: Page[Any] = field(default_factory=lambda: Page([], None))


@dataclass
class Notice:
    kind: str  # success | error
    messages: list[str]
    deal_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BoardFilters:
    """What the board shows: whose deals (the scope switch, or one owner) and which close month."""

    scope: Scope
    owner_id: uuid.UUID | None = None
    close_month: str = ""

    @classmethod
    def read(cls, request: Request, me: WebUser) -> "BoardFilters":
        params = request.query_params
        month = params.get("close", "")
        return cls(current_scope(request, me), parse_uuid(params.get("owner", "")), month if MONTH_RE.match(month) else "")

    def conditions(self, me: WebUser) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if self.owner_id is not None:
            found.append({"field": "owner_id", "op": "eq", "value": str(self.owner_id)})
        elif (whose := owner_condition(self.scope, me)) is not None:
            found.append(whose)
        if self.close_month:
            year, month = map(int, self.close_month.split("-"))
            first = date(year, month, 1)
            after = date(year + month // 12, month % 12 + 1, 1)
            found += [{"field": "close_date", "op": "gte", "value": first.isoformat()},
                      {"field": "close_date", "op": "lt", "value": after.isoformat()}]
        return found

    @cached_property
    def query(self) -> str:
        """The filters as a query string, for the links and posts the board makes."""
        values = {"scope": self.scope.key, "owner": str(self.owner_id or ""), "close": self.close_month}
        return urlencode({k: v for k, v in values.items() if v})


def _column_page(session: Session, me: WebUser, stage_id: uuid.UUID, conditions: list[dict[str, Any]],
                 cursor: str | None = None) -> Page[Any]:
    tree = {"all": [{"field": "stage_id", "op": "eq", "value": str(stage_id)}, *conditions]}
    return deal_service.list(session, actor=me.actor, query=ListQuery(filter=tree, sort="-amount", cursor=cursor, limit=COLUMN_PAGE))


def _card_context(session: Session, me: WebUser, pipeline: Pipeline, deals: list[Any], lookups: Lookups) -> dict[str, Any]:
    lookups.load_accounts(d.account_id for d in deals)
    names = {owner: lookups.user_name(owner) for owner in {d.owner_id for d in deals}}
    return {
        "owners": {owner: (name, initials(name)) for owner, name in names.items()},
        "next_tasks": board_queries.next_tasks(session, me.actor, (d.id for d in deals)),
        "health": deal_health.assess(session, deals),
        "now": utcnow(),
        "stale_before": utcnow() - timedelta(days=pipeline.stale_after_days),
        "lookups": lookups,
    }


def board_context(session: Session, me: WebUser, pipeline: Pipeline, filters: BoardFilters) -> dict[str, Any]:
    lookups = Lookups(session, me.actor)
    stages = pipeline_service.stages(session, pipeline.id)
    in_pipeline = [{"field": "pipeline_id", "op": "eq", "value": str(pipeline.id)}, *filters.conditions(me)]
    open_totals = board_queries.stage_totals(
        session, me.actor, {"all": [*in_pipeline, {"field": "stage.kind", "op": "eq", "value": "open"}]})
    closed_totals = board_queries.stage_totals(
        session, me.actor, {"all": [*in_pipeline, {"field": "stage.kind", "op": "ne", "value": "open"},
                                    {"field": "closed_at", "op": "within_last_days", "value": CLOSED_SHOWN_DAYS}]})
    columns, zones = [], []
    for stage in stages:
        if stage.kind == "open":
            totals = open_totals.get(stage.id, board_queries.StageTotals())
            page = _column_page(session, me, stage.id, in_pipeline) if totals.count else Page([], None)
            columns.append(BoardColumn(stage, totals, page))
        else:
            zones.append(BoardColumn(stage, closed_totals.get(stage.id, board_queries.StageTotals())))
    shown = [d for c in columns for d in c.page.items]
    return {
        "pipeline": pipeline,
        "columns": columns,
        "zones": zones,
        "stages": stages,
        "filters": filters,
        "scopes": SCOPES,
        "closed_days": CLOSED_SHOWN_DAYS,
        **_card_context(session, me, pipeline, shown, lookups),
    }


@router.get("/pipeline")
def default_board(request: Request, session: DbSession, me: CurrentUser) -> Response:
    pipeline = pipeline_service.default(session)
    if pipeline is None:
        return render(request, "board/board.html", {"pipeline": None, "pipelines": []})
    query = request.url.query
    return redirect(f"/pipelines/{pipeline.id}/board" + (f"?{query}" if query else ""))


@router.get("/pipelines/{pipeline_id}/board")
def board(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor)
    filters = BoardFilters.read(request, me)
    ctx = board_context(session, me, pipeline, filters)
    ctx["pipelines"] = ctx["lookups"].pipelines
    return remember(render(request, "board/board.html", ctx), me, filters.scope)


@router.get("/pipelines/{pipeline_id}/board/more")
def more_cards(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser,
               stage_id: uuid.UUID, cursor: str = "") -> Response:
    """The next deals of one column, as cards (and a "load more" while there are more)."""
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor)
    stage = stage_service.get(session, stage_id, actor=me.actor)
    if stage.pipeline_id != pipeline.id:
        raise ValidationFailed.on("stage_id", "is not a stage of this pipeline")
    filters = BoardFilters.read(request, me)
    in_pipeline = [{"field": "pipeline_id", "op": "eq", "value": str(pipeline.id)}, *filters.conditions(me)]
    page = _column_page(session, me, stage.id, in_pipeline, cursor or None)
    lookups = Lookups(session, me.actor)
    ctx = {"pipeline": pipeline, "stage": stage, "page": page, "stages": pipeline_service.stages(session, pipeline.id),
           "filters": filters, **_card_context(session, me, pipeline, page.items, lookups)}
    return render(request, "board/_cards.html", ctx)


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
        notice = Notice("success", [f"“{deal.name}” moved to {stage.name}."], deal.id)
    except ValidationFailed as exc:
        status = 422
        notice = Notice("error", [e.message for e in exc.errors] or [exc.detail], deal_id, stage_id)
    except PipewiseError as exc:
        status = exc.status
        notice = Notice("error", [exc.detail])
    ctx = board_context(session, me, pipeline, BoardFilters.read(request, me))
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
