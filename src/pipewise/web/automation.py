"""Automation pages: the workflow list, a builder form (trigger, conditions, goal, steps)
with field-level validation, and a workflow's page with its run history, enrollments and
the controls a person uses to activate, approve, pause, resume, archive or step in."""

import json
import uuid
from typing import Any

import yaml
from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pipewise.api.deps import DbSession
from pipewise.automation import io
from pipewise.automation.definition import STEP_TYPES
from pipewise.automation.explanations import sentence
from pipewise.automation.service import workflow_service
from pipewise.automation.triggers import ENROLLABLE, TRIGGER_TYPES
from pipewise.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from pipewise.web.common import CurrentUser, WebUser, flash, redirect, render, web_router

router = web_router()
SECTIONS = ("trigger", "conditions", "goal", "steps")
STARTER = {
    "trigger_type": "record_created",
    "record_type": "contact",
    "trigger_options": "",
    "conditions": "",
    "goal": "",
    "allow_reenrollment": False,
    "steps": '- id: welcome\n  type: create_task\n  title: "Call {{ record.last_name }}"\n  due_in: 1d\n',
}


@router.get("/automation")
def workflow_list(request: Request, session: DbSession, me: CurrentUser) -> Response:
    rows = [
        {"workflow": w, "live": workflow_service.version_number(session, w.live_version_id),
         "counts": workflow_service.counts(session, w.id)}
        for w in workflow_service.all(session)
    ]
    return render(request, "automation/list.html", {"rows": rows})


@router.get("/automation/new")
def new_workflow(request: Request, me: CurrentUser) -> Response:
    return _form(request, None, {"name": "", "description": "", "requires_approval": False, **STARTER}, [])


@router.get("/automation/{workflow_id}/edit")
def edit_workflow(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    workflow = workflow_service.get(session, workflow_id)
    definition = workflow_service.latest(session, workflow).definition
    trigger = dict(definition["trigger"])
    values = {
        "name": workflow.name, "description": workflow.description or "", "requires_approval": workflow.requires_approval,
        "trigger_type": trigger.pop("type"), "record_type": trigger.pop("record_type", "contact"),
        "trigger_options": _yaml(trigger) if trigger else "",
        "conditions": json.dumps(definition["conditions"], indent=2) if definition.get("conditions") else "",
        "goal": json.dumps(definition["goal"], indent=2) if definition.get("goal") else "",
        "allow_reenrollment": definition.get("allow_reenrollment", False),
        "steps": _yaml(definition["steps"]),
    }
    return _form(request, workflow, values, [])


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)


def _form(request: Request, workflow: Any, values: dict[str, Any], errors: list[FieldError], status: int = 200) -> Response:
    by_section: dict[str, list[str]] = {}
    for error in errors:
        section = next((s for s in ("name", *SECTIONS) if error.field.startswith(("definition." + s, s))), "definition")
        where = error.field.removeprefix("definition.")
        by_section.setdefault(section, []).append(f"{where}: {error.message}" if where != section else error.message)
    context = {
        "workflow": workflow, "values": values, "errors": by_section, "trigger_types": TRIGGER_TYPES,
        "record_types": ENROLLABLE, "step_types": STEP_TYPES,
    }
    return render(request, "automation/form.html", context, status_code=status)


def _definition(form: FormData) -> tuple[dict[str, Any], dict[str, Any], list[FieldError]]:
    """(form values, the definition they describe, problems reading them)."""
    values = {key: str(form.get(key) or "") for key in STARTER if key != "allow_reenrollment"}
    values.update(name=str(form.get("name") or ""), description=str(form.get("description") or ""))
    values["requires_approval"] = form.get("requires_approval") == "on"
    values["allow_reenrollment"] = form.get("allow_reenrollment") == "on"
    problems: list[FieldError] = []

    def read(key: str, text: str, parser: Any) -> Any:
        if not text.strip():
            return None
        try:
            return parser(text)
        except (ValueError, yaml.YAMLError) as exc:
            problems.append(FieldError(f"definition.{key}", f"could not be read: {str(exc).splitlines()[0]}"))
            return None

    options = read("trigger", values["trigger_options"], yaml.safe_load) or {}
    if not isinstance(options, dict):
        problems.append(FieldError("definition.trigger", "options must be 'key: value' lines"))
        options = {}
    definition: dict[str, Any] = {
        "trigger": {"type": values["trigger_type"], "record_type": values["record_type"], **options},
        "allow_reenrollment": values["allow_reenrollment"],
        "steps": read("steps", values["steps"], yaml.safe_load) or [],
    }
    for key in ("conditions", "goal"):
        tree = read(key, values[key], json.loads)
        if tree is not None:
            definition[key] = tree
    return values, definition, problems


def _save(request: Request, session: Session, me: WebUser, form: FormData, workflow_id: uuid.UUID | None) -> Response:
    values, definition, problems = _definition(form)
    workflow = workflow_service.get(session, workflow_id) if workflow_id else None
    if problems:
        return _form(request, workflow, values, problems, 422)
    try:
        with session.begin_nested():
            if workflow is None:
                workflow = workflow_service.create(
                    session, name=values["name"], description=values["description"] or None, definition=definition,
                    requires_approval=values["requires_approval"], actor=me.actor,
                )
            else:
                workflow_service.update(
                    session, workflow.id, actor=me.actor,
                    data={"name": values["name"], "description": values["description"] or None,
                          "requires_approval": values["requires_approval"], "definition": definition},
                )
    except (ValidationFailed, Conflict) as exc:
        return _form(request, workflow, values, exc.errors or [FieldError("definition", exc.detail)], 422)
    flash(request, f"Saved {workflow.name} (version {workflow.latest_version}).")
    return redirect(f"/automation/{workflow.id}")


@router.post("/automation/new")
async def create_workflow(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_save, request, session, me, await request.form(), None)


@router.post("/automation/{workflow_id}/edit")
async def update_workflow(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_save, request, session, me, await request.form(), workflow_id)


@router.get("/automation/{workflow_id}")
def workflow_page(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    workflow = workflow_service.get(session, workflow_id)
    before = request.query_params.get("before")
    decisions = workflow_service.decisions(session, workflow.id, before_id=int(before) if before and before.isdigit() else None, limit=50)
    context = {
        "workflow": workflow,
        "live": workflow_service.version_number(session, workflow.live_version_id),
        "counts": workflow_service.counts(session, workflow.id),
        "document": io.dump(io.to_document(workflow, workflow_service.latest(session, workflow))),
        "decisions": [(d, sentence(d)) for d in decisions],
        "older": decisions[-1].id if len(decisions) == 50 else None,
        "enrollments": workflow_service.enrollments(session, workflow.id, limit=50),
        "overrides": workflow_service.overrides(session, workflow.id, limit=20),
    }
    return render(request, "automation/detail.html", context)


WORKFLOW_ACTIONS = ("activate", "approve", "reject", "pause", "resume", "archive")
ENROLLMENT_ACTIONS = ("pause", "resume", "cancel", "retry")


def _act(request: Request, session: Session, me: WebUser, form: FormData, workflow_id: uuid.UUID, action: str) -> Response:
    reason = str(form.get("reason") or "").strip() or None
    enrollment_id = form.get("enrollment_id")
    try:
        with session.begin_nested():
            if enrollment_id and action in ENROLLMENT_ACTIONS:
                method = getattr(workflow_service, f"{action}_enrollment")
                method(session, uuid.UUID(str(enrollment_id)), actor=me.actor, reason=reason)
            elif action in WORKFLOW_ACTIONS:
                getattr(workflow_service, action)(session, workflow_id, actor=me.actor, reason=reason)
            else:
                raise ValidationFailed.on("action", f"unknown action {action!r}")
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        flash(request, "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail, "error")
        return redirect(f"/automation/{workflow_id}")
    flash(request, f"Done: {action}" + (f" ({reason})" if reason else "") + ".")
    return redirect(f"/automation/{workflow_id}")


@router.post("/automation/{workflow_id}/{action}")
async def workflow_action(workflow_id: uuid.UUID, action: str, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_act, request, session, me, await request.form(), workflow_id, action)
