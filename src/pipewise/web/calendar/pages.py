"""The week calendar of one's own tasks and meetings, a task form with due time, reminder
and recurrence, snooze, and the signed .ics feed (public: its address is the key)."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Query, Request, Response

from pipewise.crm import calendar
from pipewise.crm.schemas import TaskUpdate
from pipewise.crm.service import task_service
from pipewise.db.base import utcnow
from pipewise.errors import ValidationFailed
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router
from pipewise.web.forms import parse
from pipewise.web.records.views import TASK_FIELDS

router = web_router()
SNOOZES = (("1h", "1 hour", timedelta(hours=1)), ("1d", "1 day", timedelta(days=1)), ("1w", "1 week", timedelta(weeks=1)))


def _week_of(text: str | None, zone: str) -> date:
    try:
        day = date.fromisoformat(text) if text else datetime.now(ZoneInfo(zone)).date()
    except ValueError:
        day = datetime.now(ZoneInfo(zone)).date()
    return calendar.week_start(day)


@router.get("/calendar")
def week(request: Request, session: DbSession, me: CurrentUser, week: str | None = Query(None, max_length=10)) -> Response:
    first = _week_of(week, me.user.timezone)
    key = calendar.feed_key(session, me.id)
    return render(request, "calendar/week.html", {
        "days": calendar.week(session, me.id, first, me.user.timezone), "first": first,
        "previous": first - timedelta(days=7), "next": first + timedelta(days=7),
        "today": datetime.now(ZoneInfo(me.user.timezone)).date(), "feed_url": str(request.url_for("calendar_feed", key=key)) if key else None, "snoozes": SNOOZES,
    })


@router.post("/calendar/tasks")
def add_task(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    typed = {f.name: str(form.get(f.name) or "").strip() for f in TASK_FIELDS}
    data, errors = parse(TASK_FIELDS, TaskUpdate, typed, tz=me.user.timezone)
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    task = task_service.create(session, data=data, actor=me.actor)
    flash(request, f"Added the task \u201c{task.title}\u201d.")
    return redirect(f"/calendar?week={task.due_at.date().isoformat()}" if task.due_at else "/calendar")


@router.post("/calendar/tasks/{task_id}/snooze")
def snooze(request: Request, task_id: uuid.UUID, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    by = {key: delta for key, _label, delta in SNOOZES}.get(str(form.get("by") or ""))
    if by is None:
        raise ValidationFailed.on("by", "pick how long to snooze")
    task = task_service.snooze(session, task_id, utcnow() + by, actor=me.actor)
    flash(request, f"Snoozed \u201c{task.title}\u201d.")
    return redirect(str(form.get("back") or "/calendar") if str(form.get("back") or "").startswith("/calendar") else "/calendar")


@router.post("/calendar/feed/rotate")
def rotate_feed(request: Request, session: DbSession, me: CurrentUser) -> Response:
    had_one = calendar.feed_key(session, me.id) is not None
    calendar.rotate_feed(session, me.id)
    flash(request, "Your calendar has a new feed address; the old one no longer works." if had_one else "Your calendar feed is ready.")
    return redirect("/calendar")


@router.get("/calendar/feed/{key}.ics", name="calendar_feed")
def feed(key: str, session: DbSession) -> Response:
    user_id = calendar.feed_owner(session, key)
    body = calendar.ics(session, user_id, name="my calendar")
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "private, max-age=300"})
