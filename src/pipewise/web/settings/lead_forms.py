"""Settings › Lead forms: the builder. Each row maps a field of the visitor's form to a lead
field; the preview beside it shows the form as a visitor will see it, redrawn as the
builder changes. Saving goes through lead capture's own form set-up."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.api.v1.leads_forms import FormCreate
from pipewise.errors import FieldError, ValidationFailed
from pipewise.leads import capture, queries
from pipewise.leads.capture import _LABELS as LEAD_FIELD_LABELS
from pipewise.leads.models import LeadForm
from pipewise.mail.settings import get_mail_settings
from pipewise.records.field_definitions import custom_field_service
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router
from pipewise.web.forms import Problems, parse_uuid, schema_errors
from pipewise.web.settings.common import require_manager, sections_for

router = web_router()

SETTINGS = ("name", "source", "success_message", "redirect_url", "consent_text", "rate_limit_per_minute", "hidden_fields")
FLAGS = ("consent_required", "is_active")
MAX_ROWS = 30
BLANK_ROWS = 2


@dataclass
class Row:
    index: int
    name: str = ""
    target: str = ""
    required: bool = False
    error: str = ""

    @property
    def label(self) -> str:
        return LEAD_FIELD_LABELS.get(self.target, self.target.removeprefix("custom.").replace("_", " ").capitalize())

    @property
    def input_type(self) -> str:
        return {"email": "email", "phone": "tel"}.get(self.target, "text")


@dataclass
class Builder:
    """What the builder shows: the settings as typed, the field rows, the problems."""

    values: dict[str, str]
    rows: list[Row]
    problems: Problems

    @property
    def filled(self) -> list[Row]:
        return [r for r in self.rows if r.target]


def _from_form(form: LeadForm | None) -> Builder:
    if form is None:
        values = {"source": "web form", "success_message": "Thank you — we will be in touch.", "rate_limit_per_minute": "10",
                  "is_active": "on"}
        rows = [Row(0, "email", "email", True), Row(1, "name", "full_name")]
    else:
        values = {name: "" if getattr(form, name) is None else str(getattr(form, name)) for name in SETTINGS if name != "hidden_fields"}
        values["hidden_fields"] = ", ".join(form.hidden_fields)
        values.update({flag: "on" if getattr(form, flag) else "" for flag in FLAGS})
        rows = [Row(i, name, target, name in form.required_fields) for i, (name, target) in enumerate(form.field_map.items())]
    return Builder(values, _with_blanks(rows), Problems())


def _with_blanks(rows: list[Row]) -> list[Row]:
    start = max((r.index for r in rows), default=-1) + 1
    return rows + [Row(i) for i in range(start, min(start + BLANK_ROWS, MAX_ROWS))]


def _from_post(posted: FormData) -> Builder:
    values = {name: str(posted.get(name) or "").strip() for name in SETTINGS}
    values.update({flag: "on" if posted.get(flag) == "on" else "" for flag in FLAGS})
    rows = []
    for i in range(MAX_ROWS):
        name, target = str(posted.get(f"row{i}-name") or "").strip(), str(posted.get(f"row{i}-target") or "").strip()
        if f"row{i}-target" in posted:
            # A row with a lead field but no name of its own is named after the lead field.
            rows.append(Row(i, name or target, target, posted.get(f"row{i}-required") == "on"))
    return Builder(values, rows, Problems())


def _data(builder: Builder) -> tuple[dict[str, Any], list[FieldError]]:
    """The service's input, checked against the API's schema; row problems go on the rows."""
    values = builder.values
    data: dict[str, Any] = {name: values[name] for name in ("name", "source", "success_message") if values[name] or name == "name"}
    data["redirect_url"] = values["redirect_url"] or None
    data["consent_text"] = values["consent_text"] or None
    if values["rate_limit_per_minute"]:
        data["rate_limit_per_minute"] = values["rate_limit_per_minute"]
    data["hidden_fields"] = [h.strip() for h in values["hidden_fields"].split(",") if h.strip()]
    data["field_map"] = {r.name: r.target for r in builder.filled}
    data["required_fields"] = [r.name for r in builder.filled if r.required]
    data.update({flag: bool(values[flag]) for flag in FLAGS})
    errors = []
    for row in builder.rows:
        if row.name and not row.target:
            row.error = "choose the lead field this form field fills"
            errors.append(FieldError(f"row{row.index}", row.error))
    try:
        return FormCreate.model_validate(data).model_dump(), errors
    except ValidationError as exc:
        return data, errors + schema_errors(exc)


def _place(builder: Builder, errors: list[FieldError]) -> None:
    by_name = {r.name: r for r in builder.rows}
    rest = []
    for error in errors:
        row = by_name.get(error.field.removeprefix("field_map."))
        if error.field.startswith("field_map.") and row is not None:
            row.error = error.message
        elif not error.field.startswith("row"):
            rest.append(error)
    builder.problems.add(rest, (*SETTINGS, "field_map", "required_fields"))


def _targets(session: Session, me: Any) -> list[tuple[str, str]]:
    """The lead fields a form field may fill: the standard ones, then the leads' custom fields."""
    query = ListQuery(filter={"field": "record_type", "op": "eq", "value": "lead"}, sort="label", limit=200)
    custom = custom_field_service.list(session, actor=me.actor, query=query).items
    return [(t, LEAD_FIELD_LABELS.get(t, t)) for t in capture.MAPPABLE] + [(f"custom.{d.key}", d.label) for d in custom]


def _page(request: Request, session: Session, me: Any, builder: Builder, form: LeadForm | None, status: int = 200) -> Response:
    site = get_mail_settings().public_url.rstrip("/")
    context = {
        "builder": builder,
        "form": form,
        "targets": _targets(session, me),
        "hosted_url": f"{site}/f/{form.key}" if form else None,
        "snippet": capture.snippet(form, site) if form else None,
        "max_rows": MAX_ROWS,
        "sections": sections_for(me),
    }
    return render(request, "settings/lead_form.html", context, status_code=status)


@router.get("/settings/lead-forms")
def forms_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_manager(me)
    return render(request, "settings/lead_forms.html", {"forms": queries.lead_forms(session), "sections": sections_for(me)})


def _form(session: Session, form_id: str | None) -> LeadForm | None:
    wanted = parse_uuid(form_id)
    return queries.lead_form(session, wanted) if wanted else None


@router.get("/settings/lead-forms/edit")
def builder_page(request: Request, session: DbSession, me: CurrentUser, form: str | None = None) -> Response:
    require_manager(me)
    record = _form(session, form)
    return _page(request, session, me, _from_form(record), record)


@router.post("/settings/lead-forms/preview")
def preview(request: Request, me: CurrentUser, form: PostedForm) -> Response:
    require_manager(me)
    return render(request, "settings/_lead_form_preview.html", {"builder": _from_post(form)})


@router.post("/settings/lead-forms/save")
def save(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_manager(me)
    record = _form(session, str(form.get("form_id") or ""))
    builder = _from_post(form)
    data, errors = _data(builder)
    if not errors:
        try:
            with session.begin_nested():
                if record is None:
                    record = capture.create_form(session, data, actor=me.actor)
                else:
                    capture.update_form(session, record, data, actor=me.actor)
                session.flush()
        except ValidationFailed as exc:
            errors = exc.errors or [FieldError("name", exc.detail)]
            if record is not None:
                session.refresh(record)
    if errors:
        _place(builder, errors)
        return _page(request, session, me, builder, record, status=422)
    flash(request, f"Form {record.name} saved. Its address: /f/{record.key}")
    return redirect(f"/settings/lead-forms/edit?form={record.id}")
