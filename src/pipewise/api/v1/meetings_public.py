"""The public side of booking pages, without a login: a page's slots, booking, and the
signed link that reschedules or cancels. Mounted at the site root (``/book/...``)."""

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from pipewise.api.deps import DbSession, api_router
from pipewise.api.errors import problem
from pipewise.api.v1.meetings import checked_zone
from pipewise.auth.clients import client_address
from pipewise.errors import NotFound
from pipewise.meetings import booking, links, schemas
from pipewise.meetings.slots import visible_slots

root_router = api_router(tags=["booking pages (public)"])


class PublicPage(schemas.OutputModel):
    slug: str
    title: str
    description: str | None
    duration_minutes: int
    location: str | None
    questions: list[dict]


@root_router.get("/book/{slug}/info", response_model=PublicPage, summary="A booking page's public face")
def page_info(slug: str, session: DbSession) -> Any:
    return booking.page_by_slug(session, slug)


@root_router.get("/book/{slug}/slots", response_model=schemas.Slots, summary="Free slots, in the visitor's zone")
def public_slots(
    slug: str, session: DbSession, tz: str = "UTC", start: date | None = None, days: Annotated[int, Query(ge=1, le=42)] = 7,
) -> Any:
    page = booking.page_by_slug(session, slug)
    return {"timezone": tz, "days": visible_slots(session, page, start, days, checked_zone(tz), booking.now())}


@root_router.post("/book/{slug}/bookings", response_model=schemas.Booked, status_code=201, summary="Book a slot")
def book(slug: str, body: schemas.BookIn, request: Request, session: DbSession) -> Response:
    page = booking.page_by_slug(session, slug)
    try:
        meeting = booking.book(session, page, booking.BookingRequest(
            start=body.start, name=body.name, email=body.email, timezone=body.timezone, answers=body.answers,
            honeypot=body.website, ip=client_address(request),
        ))
    except booking.RateLimited as exc:
        response = problem(429, exc.title, exc.detail)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if meeting is None:
        return JSONResponse({"ok": True, "message": "Thank you."}, status_code=201)
    out = schemas.Booked(ok=True, message="Booked. An invitation is on its way.", start=meeting.start_at, manage_url=links.manage_url(meeting))
    return JSONResponse(out.model_dump(mode="json"), status_code=201)


def _by_token(session: Any, token: str) -> Any:
    found = links.read(token)
    if found is None:
        raise NotFound("this link is not valid")
    return booking.by_token(session, *found)


class Managed(schemas.OutputModel):
    title: str
    start_at: Any
    end_at: Any
    timezone: str
    status: str
    slug: str | None


@root_router.get("/book/manage/{token}/meeting", response_model=Managed, summary="The meeting a signed link manages")
def managed(token: str, session: DbSession) -> Any:
    meeting = _by_token(session, token)
    page = booking.page_of(session, meeting)
    return Managed(title=meeting.title, start_at=meeting.start_at, end_at=meeting.end_at, timezone=meeting.timezone,
                   status=meeting.status, slug=page.slug if page else None)


@root_router.post("/book/manage/{token}/reschedule", response_model=schemas.Booked, summary="Reschedule from the link")
def reschedule(token: str, body: schemas.RescheduleIn, session: DbSession) -> Any:
    meeting = booking.reschedule(session, _by_token(session, token), body.start, timezone=body.timezone)
    return schemas.Booked(ok=True, message="Rescheduled. An updated invitation is on its way.", start=meeting.start_at,
                          manage_url=links.manage_url(meeting))


@root_router.post("/book/manage/{token}/cancel", response_model=schemas.Booked, summary="Cancel from the link")
def cancel(token: str, body: schemas.CancelIn, session: DbSession) -> Any:
    booking.cancel(session, _by_token(session, token), reason=body.reason)
    return schemas.Booked(ok=True, message="Cancelled.")
