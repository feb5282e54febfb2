"""The quote list, the approval queue and the company settings page."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.deals.service import pipeline_service, stage_service
from pipewise.errors import PermissionDenied, ValidationFailed
from pipewise.quotes import schemas
from pipewise.quotes.approvals import approval_service
from pipewise.quotes.service import STATUSES, quote_service, update_company_settings
from pipewise.quotes.settings import company_settings
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, safe_next, web_router
from pipewise.web.forms import Problems, checked, parse_uuid
from pipewise.web.quotes import common  # noqa: F401 - the amount filters its templates use

router = web_router()

SETTINGS_TEXT = ("name", "legal_name", "street", "city", "postcode", "country", "vat_id", "email", "iban", "bic",
                 "brand_color", "currency", "language", "invoice_prefix")
SETTINGS_NUMBERS = ("quote_valid_days", "invoice_due_days")
ROLES = ("rep", "manager", "admin")


@router.get("/quotes")
def quote_list(request: Request, session: DbSession, me: CurrentUser, status: str = "") -> Response:
    conditions: list[dict[str, Any]] = [{"field": "status", "op": "ne", "value": "superseded"}]
    if status in STATUSES:
        conditions = [{"field": "status", "op": "eq", "value": status}]
    page = quote_service.list(session, actor=me.actor, query=ListQuery(filter={"all": conditions}, limit=200))
    return render(request, "quotes/list.html", {"quotes": page.items, "status": status, "statuses": STATUSES})


@router.get("/quote-approvals")
def approval_queue(request: Request, session: DbSession, me: CurrentUser) -> Response:
    rows = approval_service.queue(session, actor=me.actor)
    decided = approval_service.queue(session, actor=me.actor, status=None, limit=500)
    recent = [(a, q) for a, q in decided if a.status in ("approved", "rejected")][-20:][::-1]
    return render(request, "quotes/approvals.html", {"rows": rows, "recent": recent})


@router.post("/quote-approvals/{approval_id}/decision")
def decide(approval_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    parsed, errors = checked(schemas.ApprovalDecision, {"decision": form.get("decision"),
                                                        "comment": str(form.get("comment") or "").strip() or None})
    if parsed is None:
        raise ValidationFailed("choose approve or reject", errors=errors)
    approval = approval_service.decide(session, approval_id, decision=parsed.decision, comment=parsed.comment,  # type: ignore[attr-defined]
                                       actor=me.actor)
    flash(request, f"Discount {approval.status}.")
    return redirect(safe_next(str(form.get("next") or ""), "/quote-approvals"))


def _settings_page(request: Request, session: Session, values: dict[str, Any] | None = None,
                   problems: Problems | None = None, status: int = 200) -> Response:
    settings = company_settings(session)
    shown = values or {**{k: getattr(settings, k) or "" for k in SETTINGS_TEXT + SETTINGS_NUMBERS},
                       "tax_mode": settings.tax_mode, "rounding_mode": settings.rounding_mode,
                       **{f"limit_{role}": settings.discount_limits.get(role, "") for role in ROLES}}
    shown.setdefault("accepted_stage_id", str(settings.accepted_stage_id or ""))
    pipelines = {p.id: p.name for p in pipeline_service.list(session, actor=SYSTEM_ACTOR, query=ListQuery(limit=500)).items}
    stages = stage_service.list(session, actor=SYSTEM_ACTOR, query=ListQuery(sort="position", limit=500)).items
    choices = [(str(stage.id), f"{pipelines.get(stage.pipeline_id, '')} · {stage.name}") for stage in stages]
    return render(request, "quotes/settings.html", {"values": shown, "problems": problems or Problems(),
                                                    "version": settings.version, "stages": sorted(choices, key=lambda c: c[1])},
                  status_code=status)


def _admin(me: WebUser) -> None:
    if not me.actor.is_admin:
        raise PermissionDenied("only admins may see and change the company settings")


@router.get("/settings/company")
def settings_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    _admin(me)
    return _settings_page(request, session)


@router.post("/settings/company")
def save_settings(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    _admin(me)
    values = {k: str(form.get(k) or "").strip() for k in SETTINGS_TEXT + SETTINGS_NUMBERS + ("tax_mode", "rounding_mode")}
    values.update({f"limit_{role}": str(form.get(f"limit_{role}") or "").strip() for role in ROLES})
    values["accepted_stage_id"] = str(form.get("accepted_stage_id") or "")
    data: dict[str, Any] = {k: (values[k] or None) for k in SETTINGS_TEXT + SETTINGS_NUMBERS + ("tax_mode", "rounding_mode")}
    data["discount_limits"] = {role: values[f"limit_{role}"] for role in ROLES if values[f"limit_{role}"]}
    data["accepted_stage_id"] = parse_uuid(values["accepted_stage_id"])
    for required in ("name", "country", "currency", "language", "brand_color", "invoice_prefix", "quote_valid_days",
                     "invoice_due_days", "tax_mode", "rounding_mode"):
        if data[required] is None:
            data.pop(required)  # left empty: keep the current value
    parsed, errors = checked(schemas.CompanySettingsUpdate, data)
    shown = [*values.keys(), "discount_limits"]
    problems = Problems()
    if parsed is not None:
        try:
            with session.begin_nested():
                version = str(form.get("version") or "")
                update_company_settings(session, parsed.model_dump(exclude_unset=True), actor=me.actor,
                                        expected_version=int(version) if version.isdigit() else None)
        except ValidationFailed as exc:
            errors = exc.errors
    if errors:
        problems.add([_limit_field(e) for e in errors], shown)
        return _settings_page(request, session, values, problems, 422)
    flash(request, "Company settings saved. Quotes made from now on use them.")
    return redirect("/settings/company")


def _limit_field(error: Any) -> Any:
    """``discount_limits.rep`` → the form's ``limit_rep``."""
    if error.field.startswith("discount_limits."):
        return type(error)("limit_" + error.field.rsplit(".", 1)[1], error.message)
    return error
