"""Home: what the pipeline is worth and what needs doing, for me, my team or everyone I
may see (the scope switch). Value first — open, weighted, won this month — then the
overdue tasks, the deals closing soon and the newest leads."""

import uuid
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response

from pipewise.crm.service import task_service
from pipewise.db.base import utcnow
from pipewise.deals import board as board_queries
from pipewise.deals.service import deal_service
from pipewise.leads.service import lead_service
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, WebUser, flash, is_htmx, redirect, render, web_router
from pipewise.web.lookups import Lookups
from pipewise.web.records.scope import SCOPES, Scope, current_scope, owner_condition, remember

router = web_router()
TASK_LIMIT = 25
DEAL_LIMIT = 10
LEAD_LIMIT = 10
CLOSING_DAYS = 30
NEW_LEAD_DAYS = 14
OPEN_LEAD_STATUSES = ["new", "working", "nurturing"]


def _where(scope: Scope, me: WebUser, *conditions: dict[str, Any]) -> dict[str, Any]:
    whose = owner_condition(scope, me)
    return {"all": [*([whose] if whose else []), *conditions]}


def local_zone(me: WebUser) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(me.user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def month_start(me: WebUser, now: datetime) -> datetime:
    """The first moment of this month in the user's time zone."""
    local = now.astimezone(local_zone(me))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@router.get("/")
def home(request: Request, session: DbSession, me: CurrentUser) -> Response:
    scope = current_scope(request, me)
    lookups = Lookups(session, me.actor)
    now = utcnow()
    today = now.astimezone(local_zone(me)).date()

    def page(service: Any, tree: dict[str, Any], sort: str, limit: int) -> Any:
        return service.list(session, actor=me.actor, query=ListQuery(filter=tree, sort=sort, limit=limit))

    open_tasks = {"field": "status", "op": "eq", "value": "open"}
    overdue = page(task_service, _where(scope, me, open_tasks, {"field": "due_at", "op": "lt", "value": now.isoformat()}),
                   "due_at", TASK_LIMIT)
    not_late = {"any": [{"field": "due_at", "op": "gte", "value": now.isoformat()}, {"field": "due_at", "op": "is_empty"}]}
    upcoming = page(task_service, _where(scope, me, open_tasks, not_late), "due_at", TASK_LIMIT)
    closing = page(deal_service, _where(scope, me, {"field": "stage.kind", "op": "eq", "value": "open"},
                                        {"field": "close_date", "op": "lte", "value": (today + timedelta(days=CLOSING_DAYS)).isoformat()}),
                   "close_date", DEAL_LIMIT)
    leads = page(lead_service, _where(scope, me, {"field": "status", "op": "in", "value": OPEN_LEAD_STATUSES},
                                      {"field": "created_at", "op": "within_last_days", "value": NEW_LEAD_DAYS}),
                 "-created_at", LEAD_LIMIT)
    summary = board_queries.pipeline_summary(session, me.actor, owner_condition(scope, me), month_start=month_start(me, now))
    lookups.load_accounts(d.account_id for d in closing.items)
    ctx = {
        "scope": scope, "scopes": SCOPES, "summary": summary, "today": today,
        "overdue": overdue.items, "more_overdue": overdue.next_cursor is not None,
        "upcoming": upcoming.items, "closing": closing.items, "leads": leads.items,
        "closing_days": CLOSING_DAYS, "new_lead_days": NEW_LEAD_DAYS, "lookups": lookups,
    }
    return remember(render(request, "home.html", ctx), me, scope)


@router.post("/tasks/{task_id}/complete")
def complete_task(task_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    task = task_service.complete(session, task_id, actor=me.actor)
    if is_htmx(request):
        return render(request, "_task_done.html", {"task": task})
    flash(request, f"Task “{task.title}” done.")
    return redirect("/")
