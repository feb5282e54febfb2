"""Settings › Retention: admins define what is deleted after how long, preview each rule
with a dry-run (how many records, and the first of them), run it now, or switch it off."""

import uuid

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import ValidationFailed
from pipewise.privacy import retention
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormState
from pipewise.web.settings.common import require_admin, sections_for

router = web_router()
PAGE = "/settings/retention"


def _page(request: Request, session: Session, me: WebUser, *, new: FormState | None = None,
          preview: tuple[uuid.UUID, retention.Preview] | None = None, status: int = 200) -> Response:
    require_admin(me)
    rules = retention.rules(session, actor=me.actor)
    last_runs = {rule.id: next(iter(retention.runs(session, rule.id, actor=me.actor, limit=1)), None) for rule in rules}
    return render(request, "privacy/retention.html", {
        "rules": rules, "last_runs": last_runs, "kinds": retention.KINDS,
        "kind_options": [(key, kind.label) for key, kind in retention.KINDS.items()], "new": new or FormState(),
        "preview": preview, "months": retention.MONTHS, "sections": sections_for(me), "run_at": retention.next_run_at(),
    }, status_code=status)


@router.get(PAGE)
def retention_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _page(request, session, me)


@router.post(PAGE)
def create_rule(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed = {name: str(form.get(name) or "").strip() for name in ("name", "kind", "months")}
    data = {"name": typed["name"], "kind": typed["kind"], "months": int(typed["months"]) if typed["months"].isdigit() else None,
            "enabled": form.get("enabled") == "on"}
    try:
        rule = retention.create_rule(session, data, actor=me.actor)
    except ValidationFailed as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(error.field, []).append(error.message)
        return _page(request, session, me, new=FormState(values=typed, errors=errors), status=422)
    flash(request, f"Rule \u201c{rule.name}\u201d saved. Preview it before it runs.")
    return redirect(PAGE)


@router.post(PAGE + "/{rule_id}/dry-run")
def dry_run(rule_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_admin(me)
    return _page(request, session, me, preview=(rule_id, retention.preview(session, rule_id, actor=me.actor)))


@router.post(PAGE + "/{rule_id}/toggle")
def toggle(rule_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    rule = retention.get_rule(session, rule_id, actor=me.actor)
    retention.update_rule(session, rule_id, {"enabled": not rule.enabled}, actor=me.actor)
    flash(request, f"Rule \u201c{rule.name}\u201d is {'on' if rule.enabled else 'off'}.")
    return redirect(PAGE)


@router.post(PAGE + "/{rule_id}/run")
def run_now(rule_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    run = retention.run_now(session, rule_id, actor=me.actor)
    flash(request, run.error or f"{run.deleted} records deleted.", "error" if run.error else "success")
    return redirect(PAGE)


@router.post(PAGE + "/{rule_id}/delete")
def delete_rule(rule_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    retention.delete_rule(session, rule_id, actor=me.actor)
    flash(request, "Rule removed.")
    return redirect(PAGE)
