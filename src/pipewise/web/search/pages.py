"""Global search in the browser: the palette asks ``GET /search?q=`` through HTMX and
shows the fragment; without JavaScript the same address is a results page."""

from fastapi import Request, Response

from pipewise.api.v1.search import find
from pipewise.records.search import MAX_CHARS
from pipewise.web.common import CurrentUser, DbSession, is_htmx, render, web_router

router = web_router()
TYPE_LABELS = {"contact": "Contact", "account": "Account", "deal": "Deal", "lead": "Lead", "quote": "Quote"}


@router.get("/search")
def search_page(request: Request, session: DbSession, me: CurrentUser, q: str = "") -> Response:
    q = q.strip()[:MAX_CHARS]
    results = find(session, me.actor, q) if q else []
    ctx = {"q": q, "results": results, "type_labels": TYPE_LABELS}
    return render(request, "search/_results.html" if is_htmx(request) else "search/page.html", ctx)
