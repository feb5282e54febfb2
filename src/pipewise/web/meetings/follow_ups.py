"""Connecting a calendar, choosing reminders, and logging a meeting's outcome."""

import uuid
from datetime import datetime

from fastapi import Request, Response

from pipewise.errors import ValidationFailed
from pipewise.meetings import booking, calendar_sync, outcomes, reminders, service
from pipewise.meetings.availability import zone
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router

router = web_router()


@router.get("/meetings/calendar")
def calendar_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    settings = reminders.settings_of(session, me.user.id)
    return render(request, "meetings/calendar_sync.html", {
        "connection": calendar_sync.connection_of(session, me.user.id), "status": calendar_sync.read_status(me.user.id),
        "offsets": ", ".join(str(m) for m in settings.offsets_minutes), "remind_invitee": settings.remind_invitee,
    })


def _offsets(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise ValidationFailed.on("offsets_minutes", "write minutes before the start, like 1440, 60")
    return [int(p) for p in parts]


@router.post("/meetings/calendar")
def calendar_action(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    action = form.get("action")
    if action == "connect":
        calendar_sync.connect(session, {
            "url": str(form.get("url") or ""), "username": str(form.get("username") or ""),
            "password": str(form.get("password") or "") or None,
        }, actor=me.actor)
        flash(request, "Calendar connected: its busy times hide your slots and your meetings appear in it.")
    elif action == "disconnect":
        calendar_sync.disconnect(session, actor=me.actor)
        flash(request, "Calendar disconnected.")
    elif action == "reminders":
        reminders.save_settings(session, {
            "offsets_minutes": _offsets(str(form.get("offsets_minutes") or "")),
            "remind_invitee": form.get("remind_invitee") == "on",
        }, actor=me.actor)
        flash(request, "Reminders saved; they apply to meetings booked or moved from now on.")
    return redirect("/meetings/calendar")


@router.get("/meetings/{meeting_id}/outcome")
def outcome_page(meeting_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    meeting = service.meeting(session, meeting_id, actor=me.actor)
    return render(request, "meetings/outcome.html", {"meeting": meeting, "started": outcomes.has_started(meeting)})


@router.post("/meetings/{meeting_id}/outcome")
def outcome_action(meeting_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    meeting = service.meeting(session, meeting_id, actor=me.actor, write=True)
    outcome = str(form.get("outcome") or "")
    if outcome == "rescheduled":
        try:
            start = datetime.fromisoformat(str(form.get("start") or ""))
        except ValueError:
            raise ValidationFailed.on("start", "pick the new date and time") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=zone(service.availability(session, me.user.id).timezone))
        booking.reschedule(session, meeting, start)
        flash(request, "Meeting moved; the invitee gets the update.")
    else:
        service.set_outcome(session, meeting.id, outcome, actor=me.actor)
        flash(request, "Outcome logged.")
    return redirect("/meetings")
