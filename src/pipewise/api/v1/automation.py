"""Workflows, their versions, enrollments, run history (the explained decisions), dry-runs
and test runs. Thin: every rule lives in ``pipewise.automation``."""

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import Query, Request
from fastapi.responses import PlainTextResponse

from pipewise.api.deps import CurrentActor, DbSession, RawBody, api_router
from pipewise.api.v1.crud import body_bytes, run_idempotent
from pipewise.automation import acting, dryrun, io, schemas
from pipewise.automation.definition import load, parse
from pipewise.automation.presenters import decision_out, workflow_out
from pipewise.automation.service import workflow_service
from pipewise.errors import ValidationFailed
from pipewise.records.bounds import INT64

router = api_router(tags=["automation"])
Id = uuid.UUID


@router.get("/workflows", response_model=list[schemas.Workflow], summary="List workflows")
def list_workflows(
    session: DbSession, actor: CurrentActor, status: Literal["draft", "active", "paused", "archived"] | None = None
) -> Any:
    return [workflow_out(session, w) for w in workflow_service.all(session, actor=actor, status=status)]


@router.post("/workflows", status_code=201, response_model=schemas.Workflow, summary="Create a draft workflow")
def create_workflow(body: schemas.WorkflowCreate, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        workflow = workflow_service.create(session, actor=actor, **body.model_dump())
        return workflow_out(session, workflow)

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.post("/workflows/import", status_code=201, response_model=schemas.Workflow, summary="Import a YAML or JSON file as a draft")
def import_workflow(request: Request, session: DbSession, actor: CurrentActor, raw: RawBody) -> Any:
    text = raw.decode("utf-8", errors="replace")
    fmt = "json" if "json" in request.headers.get("content-type", "") else None
    workflow = io.import_document(session, io.parse_text(text, fmt), actor=actor)
    return workflow_out(session, workflow)


@router.post("/workflows/simulate", summary="Dry-run an unsaved definition over past events")
def simulate_definition(body: schemas.SimulateRequest, session: DbSession, actor: CurrentActor) -> Any:
    if body.definition is None:
        raise ValidationFailed.on("definition", "is required here; or POST /workflows/{id}/simulate")
    definition = parse(body.definition)
    return dryrun.simulate(
        session, definition, start=body.start, end=body.end, acting=acting.acting_as(session, actor), viewer=actor
    ).as_dict()


@router.get("/workflows/{workflow_id}", response_model=schemas.Workflow)
def read_workflow(workflow_id: Id, session: DbSession, actor: CurrentActor) -> Any:
    return workflow_out(session, workflow_service.get(session, workflow_id, actor=actor))


@router.patch("/workflows/{workflow_id}", response_model=schemas.Workflow, summary="Edit (a live workflow gets a new version)")
def update_workflow(workflow_id: Id, body: schemas.WorkflowUpdate, session: DbSession, actor: CurrentActor) -> Any:
    workflow = workflow_service.update(session, workflow_id, data=body.model_dump(exclude_unset=True), actor=actor)
    return workflow_out(session, workflow)


@router.post("/workflows/{workflow_id}/validate", summary="Check everything activation checks")
def validate_workflow(workflow_id: Id, session: DbSession, actor: CurrentActor) -> Any:
    workflow_service.validate(session, workflow_id, actor=actor)
    return {"valid": True}


def _state_route(name: str, summary: str) -> None:
    method = getattr(workflow_service, name)

    def change_state(workflow_id: Id, session: DbSession, actor: CurrentActor, body: schemas.Reason | None = None) -> Any:
        workflow = method(session, workflow_id, actor=actor, reason=body.reason if body else None)
        return workflow_out(session, workflow)

    router.add_api_route(
        f"/workflows/{{workflow_id}}/{name}", change_state, methods=["POST"], response_model=schemas.Workflow,
        summary=summary, name=f"{name}_workflow",
    )


for _name, _summary in (
    ("activate", "Activate (or ask a manager to approve)"),
    ("approve", "Approve the version waiting for approval (managers)"),
    ("reject", "Reject the version waiting for approval (managers; reason required)"),
    ("pause", "Pause every run (managers; reason required)"),
    ("resume", "Resume a paused workflow (managers)"),
    ("archive", "Archive and cancel open runs (managers; reason required)"),
):
    _state_route(_name, _summary)


@router.get("/workflows/{workflow_id}/versions", response_model=list[schemas.Version])
def list_versions(workflow_id: Id, session: DbSession, actor: CurrentActor) -> Any:
    workflow_service.get(session, workflow_id, actor=actor)
    return workflow_service.versions(session, workflow_id)


@router.get("/workflows/{workflow_id}/export", response_class=PlainTextResponse, summary="Export as YAML or JSON")
def export_workflow(
    workflow_id: Id, session: DbSession, actor: CurrentActor, format: Literal["yaml", "json"] = "yaml",
    version: int | None = Query(None, ge=1),
) -> Any:
    media = "application/json" if format == "json" else "application/yaml"
    workflow_service.get(session, workflow_id, actor=actor)
    return PlainTextResponse(io.export_text(session, workflow_id, fmt=format, version_number=version), media_type=media)


@router.post("/workflows/{workflow_id}/simulate", summary="Dry-run over the events of a past window; no side effects")
def simulate_workflow(workflow_id: Id, body: schemas.SimulateRequest, session: DbSession, actor: CurrentActor) -> Any:
    workflow = workflow_service.get(session, workflow_id, actor=actor)
    definition = parse(body.definition) if body.definition else load(workflow_service.latest(session, workflow))
    return dryrun.simulate(
        session, definition, start=body.start, end=body.end, acting=acting.acting_for(session, workflow), viewer=actor
    ).as_dict()


@router.post("/workflows/{workflow_id}/test", response_model=schemas.EnrollOutcome, summary="Test-run on one record")
def test_workflow(workflow_id: Id, body: schemas.TestRun, session: DbSession, actor: CurrentActor) -> Any:
    result = workflow_service.start_test(
        session, workflow_id, record_id=body.record_id, actor=actor, check_conditions=body.check_conditions
    )
    return _outcome(body.record_id, result)


@router.post("/workflows/{workflow_id}/enrollments", response_model=list[schemas.EnrollOutcome], summary="Enroll chosen records")
def enroll_records(
    workflow_id: Id, body: schemas.EnrollRequest, request: Request, session: DbSession, actor: CurrentActor
) -> Any:
    def produce() -> Any:
        results = workflow_service.enroll_records(session, workflow_id, body.record_ids, actor=actor)
        return [_outcome(record_id, r) for record_id, r in zip(body.record_ids, results, strict=True)]

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


def _outcome(record_id: uuid.UUID, result: Any) -> dict[str, Any]:
    return schemas.EnrollOutcome(
        record_id=record_id, status=result.status, reason=result.reason,
        enrollment_id=result.enrollment.id if result.enrollment else None,
    ).model_dump(mode="json")


@router.get("/workflows/{workflow_id}/enrollments", response_model=list[schemas.Enrollment])
def list_enrollments(
    workflow_id: Id, session: DbSession, actor: CurrentActor, status: str | None = None, record_id: Id | None = None,
    before: datetime | None = None, limit: int = Query(100, ge=1, le=500),
) -> Any:
    workflow_service.get(session, workflow_id, actor=actor)
    return workflow_service.enrollments(
        session, workflow_id, actor=actor, status=status, record_id=record_id, before=before, limit=limit
    )


@router.get("/workflows/{workflow_id}/runs", response_model=list[schemas.Decision], summary="Run history: every decision, explained")
def run_history(
    workflow_id: Id, session: DbSession, actor: CurrentActor, enrollment_id: Id | None = None, record_id: Id | None = None,
    kind: str | None = None, before_id: int | None = Query(None, ge=1, le=INT64[1]), limit: int = Query(100, ge=1, le=500),
) -> Any:
    workflow_service.get(session, workflow_id, actor=actor)
    rows = workflow_service.decisions(
        session, workflow_id, actor=actor, enrollment_id=enrollment_id, record_id=record_id, kind=kind,
        before_id=before_id, limit=limit,
    )
    return [decision_out(d) for d in rows]


@router.get("/workflows/{workflow_id}/overrides", response_model=list[schemas.OverrideOut], summary="Who intervened, and why")
def list_overrides(workflow_id: Id, session: DbSession, actor: CurrentActor) -> Any:
    workflow_service.get(session, workflow_id, actor=actor)
    return workflow_service.overrides(session, workflow_id, actor=actor)


@router.get("/enrollments/{enrollment_id}", response_model=schemas.Enrollment)
def read_enrollment(enrollment_id: Id, session: DbSession, actor: CurrentActor) -> Any:
    return workflow_service.enrollment(session, enrollment_id, actor=actor)


def _enrollment_route(name: str, summary: str) -> None:
    method = getattr(workflow_service, f"{name}_enrollment")

    def change(enrollment_id: Id, session: DbSession, actor: CurrentActor, body: schemas.Reason | None = None) -> Any:
        return method(session, enrollment_id, actor=actor, reason=body.reason if body else None)

    router.add_api_route(
        f"/enrollments/{{enrollment_id}}/{name}", change, methods=["POST"], response_model=schemas.Enrollment,
        summary=summary, name=f"{name}_enrollment",
    )


for _name, _summary in (
    ("pause", "Pause one record's run (reason required)"),
    ("resume", "Resume one record's run"),
    ("cancel", "Cancel one record's run (reason required)"),
    ("retry", "Retry a failed (dead-lettered) run from the step that failed"),
):
    _enrollment_route(_name, _summary)
