"""Saved views on list pages: save the filters and search on screen under a name (shared
with everyone by managers), open one, delete one."""

import uuid

from fastapi import Request, Response

from pipewise.errors import NotFound, PermissionDenied, ValidationFailed
from pipewise.records.registry import spec_for
from pipewise.records.saved_views import saved_view_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, web_router

router = web_router()


def _list_url(record_type: str, query: str = "") -> str:
    return f"/{spec_for(record_type).plural}" + (f"?{query}" if query else "")


@router.post("/saved-views")
def save_view(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    record_type = str(form.get("record_type") or "")
    query = str(form.get("query") or "").lstrip("?")
    data = {"name": form.get("name"), "record_type": record_type, "query": query, "shared": form.get("shared") == "on"}
    try:
        with session.begin_nested():
            view = saved_view_service.create(session, data, actor=me.actor)
    except ValidationFailed as exc:
        flash(request, "View not saved — " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors), "error")
        return redirect(_list_url(record_type, query) if record_type in ("account", "contact", "lead", "deal", "activity", "task") else "/")
    flash(request, f"Saved the view “{view.name}”.")
    return redirect(_list_url(view.record_type, view.query))


@router.post("/saved-views/{view_id}/delete")
def delete_view(view_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    view = saved_view_service.get(session, view_id, me.actor)
    record_type, name = view.record_type, view.name
    try:
        saved_view_service.delete(session, view_id, actor=me.actor)
    except (NotFound, PermissionDenied) as exc:
        flash(request, exc.detail, "error")
    else:
        flash(request, f"Deleted the view “{name}”.")
    return redirect(_list_url(record_type))
