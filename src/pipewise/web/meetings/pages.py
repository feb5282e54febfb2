"""My meetings, my bookable hours and my booking pages; a page's editor beside a live
preview of its public face."""

import json
import uuid

from fastapi import Request, Response

from pipewise.errors import ValidationFailed
from pipewise.meetings import booking, service
from pipewise.people import queries as people
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router

router = web_router()
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@router.get("/meetings")
def meetings_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    availability = service.availability(session, me.user.id)
    hours = {day: ", ".join(f"{a}-{b}" for a, b in spans) for day, spans in (availability.weekly_hours or {}).items()}
    return render(request, "meetings/index.html", {
        "meetings": service.meetings(session, actor=me.actor, limit=100), "pages": service.pages(session, actor=me.actor),
        "availability": availability, "hours": hours, "weekdays": WEEKDAYS, "now": booking.now(),
    })


def _spans(text: str, day: int) -> list[list[str]]:
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start, _, end = part.partition("-")
        if not (len(start.strip()) == 5 and len(end.strip()) == 5 and start.strip() < end.strip()):
            raise ValidationFailed.on(f"hours_{day}", f"write spans like 09:00-12:00, not “{part}”")
        spans.append([start.strip(), end.strip()])
    return spans


def _number(form: PostedForm, name: str, default: int | None) -> int | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValidationFailed.on(name, "give a whole number")
    return int(value)


@router.post("/meetings")
def meetings_action(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    if form.get("action") == "availability":
        weekly = {str(d): _spans(str(form.get(f"hours_{d}") or ""), d) for d in range(7)}
        service.save_availability(session, {
            "timezone": str(form.get("timezone") or "UTC"),
            "weekly_hours": {d: s for d, s in weekly.items() if s},
            "holiday_country": (str(form.get("holiday_country") or "").strip().upper() or None),
            "buffer_before_minutes": _number(form, "buffer_before_minutes", 0),
            "buffer_after_minutes": _number(form, "buffer_after_minutes", 0),
            "min_notice_minutes": _number(form, "min_notice_minutes", 240),
            "horizon_days": _number(form, "horizon_days", 60),
            "daily_limit": _number(form, "daily_limit", None),
        }, actor=me.actor)
        flash(request, "Availability saved.")
        return redirect("/meetings")
    if form.get("action") == "new_page":
        page = service.create_page(session, {"slug": str(form.get("slug") or ""), "title": str(form.get("title") or "Meeting")},
                                   actor=me.actor)
        return redirect(f"/meetings/pages/{page.id}")
    meeting_id = uuid.UUID(str(form.get("meeting_id")))
    if form.get("action") == "cancel":
        booking.cancel(session, service.meeting(session, meeting_id, actor=me.actor, write=True), reason="cancelled by the host")
        flash(request, "Meeting cancelled; the invitee gets the cancellation.")
    elif form.get("action") in ("held", "no_show"):
        service.set_outcome(session, meeting_id, str(form.get("action")), actor=me.actor)
    return redirect("/meetings")


@router.get("/meetings/pages/{page_id}")
def page_editor(page_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    page = service.page(session, page_id, actor=me.actor)
    return render(request, "meetings/page_edit.html", {
        "page": page, "hosts": {h.user_id: h for h in service.hosts(session, page.id)},
        "users": people.active_users(session), "questions": json.dumps(page.questions, indent=1),
    })


@router.post("/meetings/pages/{page_id}")
def page_save(page_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    if form.get("action") == "delete":
        service.delete_page(session, page_id, actor=me.actor)
        flash(request, "Booking page deleted.")
        return redirect("/meetings")
    try:
        questions = json.loads(str(form.get("questions") or "[]"))
    except json.JSONDecodeError:
        raise ValidationFailed.on("questions", "is not JSON: a list of {\"key\", \"label\", \"required\"}") from None
    hosts = [{"user_id": uuid.UUID(str(u)), "priority": _number(form, f"priority_{u}", 0) or 0,
              "weight": _number(form, f"weight_{u}", 1) or 1} for u in form.getlist("hosts")]
    service.update_page(session, page_id, {
        "title": str(form.get("title") or ""), "slug": str(form.get("slug") or ""), "kind": str(form.get("kind")),
        "description": str(form.get("description") or "") or None, "location": str(form.get("location") or "") or None,
        "duration_minutes": _number(form, "duration_minutes", 30), "slot_step_minutes": _number(form, "slot_step_minutes", 15),
        "questions": questions if isinstance(questions, list) else [],
        "equal_distribution": form.get("equal_distribution") == "on", "contact_owner_first": form.get("contact_owner_first") == "on",
        "is_active": form.get("is_active") == "on", "hosts": hosts or None,
    }, actor=me.actor)
    flash(request, "Booking page saved.")
    return redirect(f"/meetings/pages/{page_id}")
