"""Booking pages (for their owners and managers), availability, slots and meetings."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Query

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.errors import ValidationFailed
from pipewise.meetings import booking, schemas, service
from pipewise.meetings.availability import zone
from pipewise.meetings.slots import visible_slots

router = api_router(tags=["meetings"])


def _page_out(session: Any, page: Any) -> schemas.BookingPage:
    out = schemas.BookingPage.model_validate(page)
    out.hosts = [schemas.Host.model_validate(h) for h in service.hosts(session, page.id)]
    return out


def _meeting_out(session: Any, meeting: Any) -> schemas.Meeting:
    out = schemas.Meeting.model_validate(meeting)
    out.attendees = [schemas.Attendee.model_validate(a) for a in service.attendees(session, meeting.id)]
    return out


def _dump(body: Any) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    if body.hosts is not None:
        data["hosts"] = [h.model_dump() for h in body.hosts]
    return data


def checked_zone(name: str) -> Any:
    if zone(name).key != name:
        raise ValidationFailed.on("tz", "is not a known time zone")
    return zone(name)


@router.get("/booking-pages", response_model=list[schemas.BookingPage], summary="List booking pages you may see")
def list_pages(session: DbSession, actor: CurrentActor) -> Any:
    return [_page_out(session, p) for p in service.pages(session, actor=actor)]


@router.post("/booking-pages", response_model=schemas.BookingPage, status_code=201, summary="Create a booking page")
def create_page(body: schemas.BookingPageCreate, session: DbSession, actor: CurrentActor) -> Any:
    return _page_out(session, service.create_page(session, _dump(body), actor=actor))


@router.get("/booking-pages/{page_id}", response_model=schemas.BookingPage)
def read_page(page_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _page_out(session, service.page(session, page_id, actor=actor))


@router.patch("/booking-pages/{page_id}", response_model=schemas.BookingPage)
def update_page(page_id: uuid.UUID, body: schemas.BookingPageUpdate, session: DbSession, actor: CurrentActor) -> Any:  # type: ignore[valid-type]
    return _page_out(session, service.update_page(session, page_id, _dump(body), actor=actor))


@router.delete("/booking-pages/{page_id}", status_code=204)
def delete_page(page_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> None:
    service.delete_page(session, page_id, actor=actor)


@router.get("/booking-pages/{page_id}/slots", response_model=schemas.Slots, summary="Free slots of a page")
def page_slots(
    page_id: uuid.UUID, session: DbSession, actor: CurrentActor, tz: str = "UTC",
    start: date | None = None, days: Annotated[int, Query(ge=1, le=42)] = 7,
) -> Any:
    page = service.page(session, page_id, actor=actor)
    return {"timezone": tz, "days": visible_slots(session, page, start, days, checked_zone(tz), booking.now())}


@router.get("/meetings/availability", response_model=schemas.Availability, summary="Your bookable hours")
def read_availability(session: DbSession, actor: CurrentActor) -> Any:
    return service.availability(session, actor.id)


@router.put("/meetings/availability", response_model=schemas.Availability)
def save_availability(body: schemas.AvailabilityIn, session: DbSession, actor: CurrentActor) -> Any:
    return service.save_availability(session, body.model_dump(exclude_unset=True), actor=actor)


@router.get("/meetings", response_model=list[schemas.Meeting], summary="Meetings you may see")
def list_meetings(session: DbSession, actor: CurrentActor, status: str | None = None) -> Any:
    return [_meeting_out(session, m) for m in service.meetings(session, actor=actor, status=status)]


@router.get("/meetings/{meeting_id}", response_model=schemas.Meeting)
def read_meeting(meeting_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return _meeting_out(session, service.meeting(session, meeting_id, actor=actor))


@router.post("/meetings/{meeting_id}/cancel", response_model=schemas.Meeting)
def cancel_meeting(meeting_id: uuid.UUID, body: schemas.CancelIn, session: DbSession, actor: CurrentActor) -> Any:
    meeting = service.meeting(session, meeting_id, actor=actor, write=True)
    return _meeting_out(session, booking.cancel(session, meeting, reason=body.reason))


@router.post("/meetings/{meeting_id}/reschedule", response_model=schemas.Meeting)
def reschedule_meeting(meeting_id: uuid.UUID, body: schemas.RescheduleIn, session: DbSession, actor: CurrentActor) -> Any:
    meeting = service.meeting(session, meeting_id, actor=actor, write=True)
    return _meeting_out(session, booking.reschedule(session, meeting, body.start, timezone=body.timezone))


@router.post("/meetings/{meeting_id}/outcome", response_model=schemas.Meeting, summary="Mark a meeting held or no-show")
def meeting_outcome(meeting_id: uuid.UUID, body: schemas.OutcomeIn, session: DbSession, actor: CurrentActor) -> Any:
    return _meeting_out(session, service.set_outcome(session, meeting_id, body.status, actor=actor))
