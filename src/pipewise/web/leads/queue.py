"""A rep's work queue: open leads by score, with the reasons and the speed to lead."""

from fastapi import Request, Response

from pipewise.leads import queries
from pipewise.web.common import CurrentUser, DbSession, render, web_router

router = web_router()
QUEUE_LIMIT = 200


@router.get("/lead-queue")
def queue(request: Request, session: DbSession, me: CurrentUser, scope: str = "mine") -> Response:
    leads = queries.work_queue(session, me.actor, scope=scope, limit=QUEUE_LIMIT)
    speed = queries.speed_to_lead(session, [lead.id for lead in leads])
    return render(request, "leads/queue.html", {"leads": leads, "speed": speed, "scope": scope, "tab": "queue"})
