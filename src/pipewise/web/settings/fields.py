"""Settings › Custom fields: extra fields on the record types that carry them. The key and
type are fixed once a field exists; its label, choices and whether it is required are not."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.errors import FieldError, ValidationFailed
from pipewise.records import schemas as record_schemas
from pipewise.records.custom_fields import FIELD_TYPES
from pipewise.records.field_definitions import custom_field_service
from pipewise.records.registry import customizable
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormState, Problems, to_state
from pipewise.web.settings.common import require_admin, schema_checked, sections_for

router = web_router()

NEW_FIELDS = ("record_type", "label", "key", "field_type", "choices")
EDIT_FIELDS = ("label", "choices")


def _page(request: Request, session: Session, me: WebUser, *, new: FormState | None = None,
          rows: dict[str, Problems] | None = None, status: int = 200) -> Response:
    definitions = custom_field_service.list(session, actor=me.actor, query=ListQuery(sort="record_type", limit=500)).items
    context = {
        "definitions": sorted(definitions, key=lambda d: (d.record_type, d.label.lower())),
        "record_types": customizable(),
        "field_types": FIELD_TYPES,
        "new": new or FormState(values={"field_type": "text"}),
        "rows": rows or {},
        "sections": sections_for(me),
    }
    return render(request, "settings/fields.html", context, status_code=status)


@router.get("/settings/fields")
def fields_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_admin(me)
    return _page(request, session, me)


def _input(form: FormData, names: tuple[str, ...]) -> tuple[dict[str, str], dict[str, Any]]:
    typed = {name: str(form.get(name) or "").strip() for name in names}
    choices = [c.strip() for c in typed.pop("choices", "").split(",") if c.strip()]
    extra = {"choices": choices, "required": form.get("required") == "on"}
    return typed, extra


def _shown(typed: dict[str, str], extra: dict[str, Any]) -> dict[str, str]:
    return {**typed, "choices": ", ".join(extra["choices"]), "required": "on" if extra["required"] else ""}


@router.post("/settings/fields")
def create_field(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed, extra = _input(form, NEW_FIELDS)
    data, errors = schema_checked(record_schemas.CustomFieldCreate, typed, extra=extra)
    if not errors:
        try:
            with session.begin_nested():
                custom_field_service.create(session, data=data, actor=me.actor)
        except ValidationFailed as exc:
            errors = exc.errors or [FieldError("key", exc.detail)]
    if errors:
        return _page(request, session, me, new=to_state(_shown(typed, extra), errors, NEW_FIELDS), status=422)
    flash(request, f"Field {typed['label']} added to {typed['record_type']} records.")
    return redirect("/settings/fields")


@router.post("/settings/fields/{field_id}")
def update_field(field_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    definition = custom_field_service.get(session, field_id, actor=me.actor, write=True)
    typed, extra = _input(form, EDIT_FIELDS)
    if definition.field_type != "choice":
        extra.pop("choices")
    data, errors = schema_checked(record_schemas.CustomFieldUpdate, typed, extra=extra)
    if not errors:
        try:
            with session.begin_nested():
                custom_field_service.update(session, definition, data=data, actor=me.actor)
        except ValidationFailed as exc:
            errors = exc.errors or [FieldError("label", exc.detail)]
    if errors:
        problems = Problems()
        problems.add(errors, [*EDIT_FIELDS, "required"])
        session.refresh(definition)
        return _page(request, session, me, rows={str(field_id): problems}, status=422)
    flash(request, f"Field {definition.label} saved.")
    return redirect("/settings/fields")
