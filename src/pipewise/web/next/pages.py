"""The "what to do next" page: a rep's ranked actions; managers switch to a rep of their teams."""


from fastapi import Request, Response

from pipewise.next_actions import service as next_actions
from pipewise.web.common import CurrentUser, DbSession, render, web_router
from pipewise.web.forms import parse_uuid

router = web_router()


@router.get("/next")
def next_page(request: Request, session: DbSession, me: CurrentUser, user_id: str | None = None) -> Response:
    user = next_actions.whose(session, me.actor, parse_uuid(user_id or "") or me.id)
    return render(request, "next/list.html", {
        "person": user, "actions": next_actions.for_user(session, user, actor=me.actor, limit=50),
        "people": next_actions.people(session, me.actor),
    })
