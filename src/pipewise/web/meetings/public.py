"""The public booking page (``/book/{slug}``) and the page a signed link opens to
reschedule or cancel (``/book/manage/{token}``). No login; the page's script talks to the
public JSON addresses beside them."""

from fastapi import Request, Response

from pipewise.meetings import booking, links
from pipewise.web.common import DbSession, render, web_router

router = web_router()


@router.get("/book/manage/{token}")
def manage_page(token: str, request: Request, session: DbSession) -> Response:
    found = links.read(token)
    meeting = booking.by_token(session, *found) if found else None
    page = booking.page_of(session, meeting) if meeting else None
    return render(request, "meetings/manage.html", {"meeting": meeting, "page": page, "token": token},
                  status_code=200 if meeting else 404)


@router.get("/book/{slug}")
def booking_page(slug: str, request: Request, session: DbSession) -> Response:
    page = booking.page_by_slug(session, slug)
    return render(request, "meetings/book.html", {"page": page})
