"""The audit trail for admins: filter it, page back through it, export what the filter
shows (the export is itself an entry), and set how long it is kept."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import Query, Request, Response

from pipewise.api.v1.audit import export_csv
from pipewise.audit import service as audit
from pipewise.errors import ValidationFailed
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router

router = web_router()

CHANNELS = ("web", "api", "cli", "mcp", "worker", "workflow", "sequence", "system")
ACTION_GROUPS = {
    "login.": "Log-ins", "logout": "Log-outs", "password.": "Passwords", "token.": "API tokens", "user.": "Users",
    "team.": "Teams", "audit.": "Audit trail", "custom_field.": "Custom fields", "pipeline.": "Pipelines",
    "stage.": "Stages", "product.": "Products",
}
FILTERS = ("channel", "action", "q", "since", "until")


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.on("since" if not end else "until", "a date as YYYY-MM-DD") from None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    return moment.replace(tzinfo=UTC)


def _query(values: dict[str, str], before_id: int | None = None) -> audit.AuditQuery:
    return audit.AuditQuery(channel=values.get("channel") or None, action=values.get("action") or None,
                            text=values.get("q") or None, since=_day(values.get("since")),
                            until=_day(values.get("until"), end=True), before_id=before_id, limit=100)


def _admin(me: WebUser) -> None:
    audit.require_admin(me.actor)


@router.get("/audit")
def trail(request: Request, session: DbSession, me: CurrentUser, before_id: int | None = Query(None, ge=1)) -> Response:
    _admin(me)
    values = {name: str(request.query_params.get(name) or "").strip()[:200] for name in FILTERS}
    problem = None
    try:
        entries = audit.search(session, _query(values, before_id), actor=me.actor)
    except ValidationFailed as exc:
        entries, problem = [], exc.errors[0]
    return render(request, "audit/list.html", {
        "entries": entries, "values": values, "problem": problem, "channels": CHANNELS, "groups": ACTION_GROUPS,
        "older": entries[-1].id if len(entries) == 100 else None, "retention": audit.retention_days(session),
        "limits": audit.RETENTION_LIMITS,
    })


@router.post("/audit/export")
def export(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    _admin(me)
    values = {name: str(form.get(name) or "").strip()[:200] for name in FILTERS}
    return Response(export_csv(session, _query(values), me.actor), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


@router.post("/audit/retention")
def retention(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    _admin(me)
    raw: Any = str(form.get("retention_days") or "").strip()
    try:
        days = audit.set_retention(session, int(raw) if raw.isdigit() else -1, actor=me.actor)
    except ValidationFailed as exc:
        flash(request, f"Retention not changed: {exc.errors[0].message}.", "error")
        return redirect("/audit")
    flash(request, f"The audit trail is now kept for {days} days.")
    return redirect("/audit")
