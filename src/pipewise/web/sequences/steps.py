"""The step editor of the sequence builder: add, edit, move and remove steps; A/B
variants with a template editor (subject, HTML and text bodies, a merge-field and
snippet picker) and a live preview rendered with a real contact, whose problems (syntax
errors, unknown merge fields) appear under the field they belong to."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.crm.service import contact_service
from pipewise.errors import FieldError, NotFound, ValidationFailed
from pipewise.records.custom_fields import definitions
from pipewise.records.repository import ListQuery
from pipewise.sequences import templates
from pipewise.sequences.library import template_service
from pipewise.sequences.models import Sequence, SequenceStep
from pipewise.sequences.schemas import EMAIL_STEPS
from pipewise.sequences.service import sequence_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import Problems, parse_uuid
from pipewise.web.sequences.forms import (
    STEP_KINDS,
    blank_variant,
    new_step_values,
    next_label,
    parse_step,
    read_step,
    step_fields,
    step_values,
)

router = web_router()
CONTACT_CHOICES = 25
PREVIEW_PARTS = ("subject", "body_html", "body_text")


def merge_field_paths(session: Session) -> list[str]:
    """Every merge field a template may use, in the order the picker lists them."""
    paths = []
    for record, fields in templates.FIELDS.items():
        for name in fields:
            if name != "custom":
                paths.append(f"{record}.{name}")
            elif record in templates.CUSTOM_OWNERS:
                paths += [f"{record}.custom.{key}" for key in definitions(session, templates.CUSTOM_OWNERS[record])]
    return paths + list(templates.LEAVES)


def contact_choices(session: Session, me: WebUser, q: str | None = None) -> list[Any]:
    query = ListQuery(q=q or None, sort="last_name", limit=CONTACT_CHOICES)
    return contact_service.list(session, actor=me.actor, query=query).items


def _step_form(request: Request, session: Session, me: WebUser, sequence: Sequence, step: SequenceStep | None,
               values: dict[str, Any], problems: Problems | None = None, status: int = 200) -> Response:
    return render(request, "sequences/step_form.html", {
        "sequence": sequence, "step": step, "values": values, "problems": problems or Problems(), "step_kinds": STEP_KINDS,
        "is_email": values["kind"] in EMAIL_STEPS, "merge_fields": merge_field_paths(session),
        "snippets": template_service.all(session, kind="snippet"), "contacts": contact_choices(session, me),
    }, status_code=status)


@router.get("/sequences/{sequence_id}/steps/new")
def new_step(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, kind: str = "auto_email") -> Response:
    sequence = sequence_service.get(session, sequence_id)
    if kind not in STEP_KINDS:
        raise ValidationFailed.on("kind", f"choose one of {', '.join(STEP_KINDS)}")
    return _step_form(request, session, me, sequence, None, new_step_values(kind))


@router.get("/sequences/{sequence_id}/steps/{step_id}/edit")
def edit_step(sequence_id: uuid.UUID, step_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    sequence = sequence_service.get(session, sequence_id)
    step = _step_of(session, sequence, step_id)
    return _step_form(request, session, me, sequence, step, step_values(step, sequence_service.variants(session, step.id)))


def _step_of(session: Session, sequence: Sequence, step_id: uuid.UUID) -> SequenceStep:
    step = next((s for s in sequence_service.steps(session, sequence.id) if s.id == step_id), None)
    if step is None:
        raise NotFound(f"the sequence has no step with id {step_id}")
    return step


@router.post("/sequences/{sequence_id}/steps/new")
@router.post("/sequences/{sequence_id}/steps/{step_id}/edit")
def save_step(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm,
              step_id: uuid.UUID | None = None) -> Response:
    sequence = sequence_service.get(session, sequence_id)
    step = _step_of(session, sequence, step_id) if step_id else None
    kind = step.kind if step else str(form.get("kind") or "")
    if kind not in STEP_KINDS:
        raise ValidationFailed.on("kind", f"choose one of {', '.join(STEP_KINDS)}")
    values = read_step(form, kind)
    op = str(form.get("op") or "save")
    if op == "add_variant":
        values["variants"].append(blank_variant(next_label(values["variants"])))
        return _step_form(request, session, me, sequence, step, values)
    if op.startswith("remove_variant:") and op[15:].isdigit():
        del values["variants"][int(op[15:])]
        return _step_form(request, session, me, sequence, step, values)
    parsed, errors = parse_step(values, new=step is None)
    problems = Problems()
    if parsed is None:
        problems.add(errors, step_fields(values))
        return _step_form(request, session, me, sequence, step, values, problems, 422)
    try:
        with session.begin_nested():
            if step is None:
                sequence_service.add_step(session, sequence.id, step=parsed, actor=me.actor)  # type: ignore[arg-type]
            else:
                sequence_service.update_step(session, sequence.id, step.id, change=parsed, actor=me.actor)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        problems.add(exc.errors or [FieldError("", exc.detail)], step_fields(values))
        return _step_form(request, session, me, sequence, step, values, problems, 422)
    flash(request, f"Step {'added' if step is None else 'saved'}.")
    return redirect(f"/sequences/{sequence.id}")


@router.post("/sequences/{sequence_id}/steps/{step_id}/delete")
def delete_step(sequence_id: uuid.UUID, step_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    sequence_service.delete_step(session, sequence_id, step_id, actor=me.actor)
    flash(request, "Step removed.")
    return redirect(f"/sequences/{sequence_id}")


@router.post("/sequences/{sequence_id}/steps/{step_id}/move")
def move_step(sequence_id: uuid.UUID, step_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser,
              form: PostedForm) -> Response:
    direction = str(form.get("direction") or "")
    sequence_service.move_step(session, sequence_id, step_id, direction=direction, actor=me.actor)
    return redirect(f"/sequences/{sequence_id}")


# -- preview --


@router.post("/email-preview")
def preview(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    prefix = str(form.get("prefix") or "")
    parts = {part: str(form.get(prefix + part) or "") for part in PREVIEW_PARTS}
    names = [prefix + part for part in PREVIEW_PARTS]
    problems = Problems()
    rendered = None
    contact_id = parse_uuid(str(form.get("contact_id") or ""))
    if contact_id is None:
        problems.add([FieldError("contact_id", "choose a contact to preview with")], ["contact_id"])
    else:
        try:
            rendered = sequence_service.preview(
                session, contact_id=contact_id, subject=parts["subject"], body_html=parts["body_html"],
                body_text=parts["body_text"] or None, actor=me.actor,
            )
        except ValidationFailed as exc:
            problems.add([FieldError(prefix + e.field, e.message) for e in exc.errors], names)
        except NotFound:
            problems.add([FieldError("contact_id", "no contact you can see has that id")], ["contact_id"])
    return render(request, "sequences/_preview.html", {
        "rendered": rendered, "problems": problems, "names": names, "target": str(form.get("target") or "preview"),
    }, status_code=422 if problems else 200)


@router.get("/email-preview/contacts")
def preview_contacts(request: Request, session: DbSession, me: CurrentUser, q: str = "") -> Response:
    return render(request, "sequences/_contact_options.html", {"contacts": contact_choices(session, me, q.strip())})
