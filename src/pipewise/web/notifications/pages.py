"""The notification inbox: the list (newest first, unread highlighted), opening one marks
it read and follows its link, mark all read, and which kinds also come by e-mail."""

import uuid

from fastapi import Query, Request, Response

from pipewise.notifications import service as notifications
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router

router = web_router()


@router.get("/notifications")
def inbox(request: Request, session: DbSession, me: CurrentUser, unread: bool = False,
          cursor: str | None = Query(None, max_length=200)) -> Response:
    page = notifications.inbox(session, me.id, unread=unread, cursor=cursor)
    return render(request, "notifications/list.html", {"page": page, "unread": unread, "kinds": notifications.KINDS})


@router.get("/notifications/bell")
def bell(request: Request, me: CurrentUser) -> Response:
    """The bell alone: each page's bell asks for it again every minute."""
    return render(request, "notifications/_bell.html")


@router.post("/notifications/read-all")
def read_all(request: Request, session: DbSession, me: CurrentUser) -> Response:
    marked = notifications.mark_all_read(session, me.id)
    flash(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    return redirect("/notifications")


@router.post("/notifications/{notification_id}/open")
def open_one(notification_id: uuid.UUID, session: DbSession, me: CurrentUser) -> Response:
    row = notifications.mark_read(session, me.id, notification_id)
    return redirect(row.link or "/notifications")


@router.get("/notifications/settings")
def settings(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return render(request, "notifications/settings.html", {
        "email": notifications.preferences(session, me.id), "kinds": notifications.KINDS,
    })


@router.post("/notifications/settings")
def save_settings(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    chosen = set(form.getlist("email"))
    notifications.set_preferences(session, me.id, {kind: kind in chosen for kind in notifications.KINDS})
    flash(request, "Saved which notifications also come by e-mail.")
    return redirect("/notifications/settings")
