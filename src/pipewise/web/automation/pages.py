"""Automation pages: the workflow list, a builder (trigger, conditions, goal, steps — one
widget per option, see ``workflow_form``) with field-level validation, and a workflow's page with its run history, enrollments and
the controls a person uses to activate, approve, pause, resume, archive or step in."""

import uuid
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.automation import acting, dryrun, io
from pipewise.automation.definition import STEP_TYPES, load
from pipewise.automation.explanations import sentence
from pipewise.automation.service import workflow_service
from pipewise.automation.triggers import ENROLLABLE, TRIGGER_TYPES
from pipewise.db.base import utcnow
from pipewise.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from pipewise.people import queries as people
from pipewise.records.filters import OPERATORS
from pipewise.records.saved_views import saved_view_service
from pipewise.runs.holdout import read_share
from pipewise.sequences.service import sequence_service
from pipewise.web.automation.workflow_form import (
    STEP_WIDGETS,
    TRIGGER_WIDGETS,
    FormState,
    condition_fields,
    place_errors,
    read_form,
    values_from_definition,
)
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.lookups import PICKER_KINDS, Lookups

router = web_router()
STARTER_DEFINITION = {
    "trigger": {"type": "record_created", "record_type": "contact"},
    "steps": [{"id": "welcome", "type": "create_task", "title": "Call {{ record.last_name }}", "due_in": "1d"}],
}


@router.get("/automation")
def workflow_list(request: Request, session: DbSession, me: CurrentUser) -> Response:
    rows = [
        {"workflow": w, "live": workflow_service.version_number(session, w.live_version_id),
         "counts": workflow_service.counts(session, w.id)}
        for w in workflow_service.all(session, actor=me.actor)
    ]
    return render(request, "automation/list.html", {"rows": rows})


@router.get("/automation/new")
def new_workflow(request: Request, session: DbSession, me: CurrentUser) -> Response:
    values = {"name": "", "description": "", "requires_approval": False, "holdout_percent": "0",
              **values_from_definition(STARTER_DEFINITION)}
    return _form(request, session, me, None, FormState(values))


@router.get("/automation/{workflow_id}/edit")
def edit_workflow(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    workflow = workflow_service.get(session, workflow_id, actor=me.actor, edit=True)
    definition = workflow_service.latest(session, workflow).definition
    values = {
        "name": workflow.name, "description": workflow.description or "", "requires_approval": workflow.requires_approval,
        "holdout_percent": str(workflow.holdout_percent), **values_from_definition(definition),
    }
    return _form(request, session, me, workflow, FormState(values))


def _form(request: Request, session: Session, me: WebUser, workflow: Any, state: FormState, status: int = 200) -> Response:
    context = {
        "saved_views": saved_view_service.list(session, me.actor),
        "workflow": workflow, "values": state.values, "errors": state.errors, "trigger_types": TRIGGER_TYPES,
        "record_types": ENROLLABLE, "step_types": STEP_TYPES, "step_widgets": STEP_WIDGETS,
        "trigger_widgets": TRIGGER_WIDGETS, "operators": OPERATORS,
        "condition_fields": {t: condition_fields(t) for t in ENROLLABLE},
        "references": _reference_choices(session, me),
        # Only an admin changes whether an existing workflow needs approval.
        "approval_locked": workflow is not None and not me.actor.is_admin,
    }
    return render(request, "automation/form.html", context, status_code=status)


def _reference_choices(session: Session, me: WebUser) -> dict[str, list[tuple[str, str]]]:
    """(id, name) to pick from, for each kind of reference an option may name."""
    lookups = Lookups(session, me.actor)
    pipelines = {p.id: p.name for p in lookups.pipelines}
    return {
        "user": [(str(u.id), u.name) for u in people.active_users(session)],
        "team": [(str(t.id), t.name) for t in people.teams(session)],
        "pipeline": [(str(i), name) for i, name in pipelines.items()],
        "stage": [(str(st.id), f"{pipelines.get(st.pipeline_id, '?')} · {st.name}") for st in lookups.stages.values()],
        "sequence": [(str(q.id), q.name) for q in sequence_service.all(session)],
    }


def _save(request: Request, session: Session, me: WebUser, form: FormData, workflow_id: uuid.UUID | None) -> Response:
    definition, state = read_form(form)
    values = state.values
    workflow = workflow_service.get(session, workflow_id, actor=me.actor, edit=True) if workflow_id else None
    if workflow is not None and not me.actor.is_admin:
        values["requires_approval"] = workflow.requires_approval
    share = 0
    try:
        share = read_share(values["holdout_percent"])
    except ValueError as exc:
        state.add("holdout_percent", str(exc))
    if state.errors:
        return _form(request, session, me, workflow, state, 422)
    try:
        with session.begin_nested():
            if workflow is None:
                workflow = workflow_service.create(
                    session, name=values["name"], description=values["description"] or None, definition=definition,
                    requires_approval=values["requires_approval"], holdout_percent=share, actor=me.actor,
                )
            else:
                workflow_service.update(
                    session, workflow.id, actor=me.actor,
                    data={"name": values["name"], "description": values["description"] or None,
                          "requires_approval": values["requires_approval"], "holdout_percent": share, "definition": definition},
                )
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        place_errors(state, exc.errors or [FieldError("definition", exc.detail)])
        return _form(request, session, me, workflow, state, 403 if isinstance(exc, PermissionDenied) else 422)
    flash(request, f"Saved {workflow.name} (version {workflow.latest_version}).")
    return redirect(f"/automation/{workflow.id}")


@router.post("/automation/new")
def create_workflow(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    return _save(request, session, me, form, None)


@router.post("/automation/{workflow_id}/edit")
def update_workflow(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    return _save(request, session, me, form, workflow_id)


@router.get("/automation/{workflow_id}")
def workflow_page(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    """The workflow, its runs and controls; ``?dry_run=<days>`` adds a dry-run over that many past days."""
    workflow = workflow_service.get(session, workflow_id, actor=me.actor)
    before = request.query_params.get("before")
    before_id = int(before) if before and before.isdigit() else None
    decisions = workflow_service.decisions(session, workflow.id, actor=me.actor, before_id=before_id, limit=50)
    context = {
        "workflow": workflow,
        "live": workflow_service.version_number(session, workflow.live_version_id),
        "counts": workflow_service.counts(session, workflow.id),
        "document": io.dump(io.to_document(workflow, workflow_service.latest(session, workflow))),
        "decisions": [(d, sentence(d)) for d in decisions],
        "older": decisions[-1].id if len(decisions) == 50 else None,
        "enrollments": workflow_service.enrollments(session, workflow.id, actor=me.actor, limit=50),
        "overrides": workflow_service.overrides(session, workflow.id, actor=me.actor, limit=20),
        "dry_run": _dry_run(session, workflow, me, request.query_params.get("dry_run")),
        "dry_run_days": DRY_RUN_DAYS, "picker_kinds": PICKER_KINDS,
    }
    return render(request, "automation/detail.html", context)


DRY_RUN_DAYS = (7, 30, 90)


def _dry_run(session: Session, workflow: Any, me: WebUser, days: str | None) -> dict[str, Any] | None:
    """What the latest version would have done over the past ``days`` (nothing is changed)."""
    if not days:
        return None
    if not days.isdigit() or int(days) not in DRY_RUN_DAYS:
        raise ValidationFailed.on("dry_run", f"pick one of {', '.join(map(str, DRY_RUN_DAYS))} days")
    end = utcnow()
    definition = load(workflow_service.latest(session, workflow))
    report = dryrun.simulate(session, definition, start=end - timedelta(days=int(days)), end=end,
                             acting=acting.acting_for(session, workflow), viewer=me.actor)
    return {"days": int(days), "report": report}


@router.post("/automation/{workflow_id}/test-run")
def test_run(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    """Run the latest version on one record in test mode (waits skipped, e-mails to the tester)."""
    raw = str(form.get("record_id") or "").strip()
    try:
        record_id = uuid.UUID(raw)
    except ValueError:
        flash(request, "Pick the record to test the workflow on.", "error")
        return redirect(f"/automation/{workflow_id}")
    try:
        with session.begin_nested():
            result = workflow_service.start_test(session, workflow_id, record_id=record_id, actor=me.actor,
                                                 check_conditions=form.get("check_conditions") == "on")
    except (ValidationFailed, Conflict, PermissionDenied, NotFound) as exc:
        flash(request, "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail, "error")
        return redirect(f"/automation/{workflow_id}")
    if result.status == "enrolled":
        flash(request, "Test run started: its steps show in the run history below, marked “test”.")
    else:
        flash(request, f"Not started: {result.reason}", "error")
    return redirect(f"/automation/{workflow_id}")


WORKFLOW_ACTIONS = ("activate", "approve", "reject", "pause", "resume", "archive")
ENROLLMENT_ACTIONS = ("pause", "resume", "cancel", "retry")


@router.post("/automation/{workflow_id}/{action}")
def workflow_action(workflow_id: uuid.UUID, action: str, request: Request, session: DbSession, me: CurrentUser,
                    form: PostedForm) -> Response:
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
