"""A rep's work queue: open leads by score, with the reasons and the speed to lead — mine,
my team's or everyone's (the remembered scope switch), or the unassigned queues."""

from fastapi import Request, Response

from pipewise.leads import queries
from pipewise.web.common import CurrentUser, DbSession, render, web_router
from pipewise.web.records.scope import SCOPES, current_scope, remember

router = web_router()
QUEUE_LIMIT = 200
DESK_SCOPES = {"me": "mine", "team": "team", "everyone": "all"}


@router.get("/lead-queue")
def queue(request: Request, session: DbSession, me: CurrentUser, scope: str = "") -> Response:
    whose = current_scope(request, me)
    desk_scope = "queues" if scope == "queues" else DESK_SCOPES[whose.key]
    leads = queries.work_queue(session, me.actor, scope=desk_scope, limit=QUEUE_LIMIT)
    speed = queries.speed_to_lead(session, [lead.id for lead in leads])
    ctx = {"leads": leads, "speed": speed, "scope": desk_scope, "filters": {"scope": whose}, "scopes": SCOPES, "tab": "queue"}
    return remember(render(request, "leads/queue.html", ctx), me, whose)
