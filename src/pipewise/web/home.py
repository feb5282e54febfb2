"""The logged-in user's home page: their open tasks and their open deals by stage."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import Request, Response

from pipewise.crm.service import task_service
from pipewise.deals.service import deal_service
from pipewise.records.repository import MAX_PAGE, ListQuery
from pipewise.web.common import CurrentUser, DbSession, flash, is_htmx, redirect, render, web_router
from pipewise.web.formatting import sum_by_currency
from pipewise.web.lookups import Lookups

router = web_router()
TASK_LIMIT = 50


@dataclass
class StageGroup:
    name: str
    position: tuple[str, int]
    deals: list[Any] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, Decimal]:
        return sum_by_currency(self.deals)


def _mine(me_id: uuid.UUID, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"all": [{"field": "owner_id", "op": "eq", "value": str(me_id)}, *conditions]}


@router.get("/")
def home(request: Request, session: DbSession, me: CurrentUser) -> Response:
    lookups = Lookups(session, me.actor)
    tasks = task_service.list(
        session,
        actor=me.actor,
        query=ListQuery(
            filter=_mine(me.id, {"field": "status", "op": "eq", "value": "open"}), sort="due_at", limit=TASK_LIMIT
        ),
    )
    deals = deal_service.list(
        session,
        actor=me.actor,
        query=ListQuery(
            filter=_mine(me.id, {"field": "stage.kind", "op": "eq", "value": "open"}), sort="close_date", limit=MAX_PAGE
        ),
    ).items
    pipeline_names = {p.id: p.name for p in lookups.pipelines}
    groups: dict[uuid.UUID, StageGroup] = {}
    for deal in deals:
        stage = lookups.stages.get(deal.stage_id)
        if deal.stage_id not in groups:
            pipeline = pipeline_names.get(deal.pipeline_id, "")
            groups[deal.stage_id] = StageGroup(
                name=f"{stage.name if stage else '—'}" + (f" · {pipeline}" if len(pipeline_names) > 1 else ""),
                position=(pipeline, stage.position if stage else 0),
            )
        groups[deal.stage_id].deals.append(deal)
    ordered = sorted(groups.values(), key=lambda g: g.position)
    lookups.load_accounts(d.account_id for d in deals)
    return render(
        request,
        "home.html",
        {
            "tasks": tasks.items,
            "more_tasks": tasks.next_cursor is not None,
            "groups": ordered,
            "deal_count": len(deals),
            "totals": sum_by_currency(deals),
            "chart": {"labels": [g.name for g in ordered], "counts": [len(g.deals) for g in ordered]},
            "lookups": lookups,
        },
    )


@router.post("/tasks/{task_id}/complete")
def complete_task(task_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    task = task_service.complete(session, task_id, actor=me.actor)
    if is_htmx(request):
        return render(request, "_task_done.html", {"task": task})
    flash(request, f"Task “{task.title}” done.")
    return redirect("/")
