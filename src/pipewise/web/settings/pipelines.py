"""Settings › Pipelines and stages: a pipeline's name and staleness, its stages in order
(dragged, or moved up and down without a mouse), each with its probability, whether it
is open, won or lost, and the deal fields a deal must have filled to enter it."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.deals import schemas as deal_schemas
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import STAGE_KINDS, field_label, pipeline_service, stage_service
from pipewise.errors import FieldError, ValidationFailed
from pipewise.records.field_definitions import custom_field_service
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormState, Problems, parse_uuid, to_state
from pipewise.web.settings.common import require_admin, schema_checked, sections_for

router = web_router()

# Deal fields a stage may require (the rest are set by Pipewise itself).
REQUIRABLE = ("amount", "close_date", "account_id", "owner_id", "next_step", "lost_reason")
STAGE_FIELDS = ("name", "probability", "kind")
PIPELINE_FIELDS = ("name", "stale_after_days")


def _requirable(session: Session, me: WebUser) -> list[tuple[str, str]]:
    query = ListQuery(filter={"field": "record_type", "op": "eq", "value": "deal"}, sort="label", limit=200)
    custom = custom_field_service.list(session, actor=me.actor, query=query).items
    return [(name, field_label(name)) for name in REQUIRABLE] + [(f"custom.{d.key}", d.label) for d in custom]


def _chosen(session: Session, pipeline_param: str | None, me: WebUser) -> tuple[list[Pipeline], Pipeline | None]:
    pipelines = pipeline_service.list(session, actor=me.actor, query=ListQuery(sort="name", limit=200)).items
    wanted = parse_uuid(pipeline_param)
    chosen = next((p for p in pipelines if p.id == wanted), None) or pipeline_service.default(session)
    return pipelines, chosen


def _page(
    request: Request, session: Session, me: WebUser, pipeline_param: str | None = None, *,
    new_stage: FormState | None = None, new_pipeline: FormState | None = None, pipeline_form: FormState | None = None,
    rows: dict[str, Problems] | None = None, status: int = 200,
) -> Response:
    pipelines, chosen = _chosen(session, pipeline_param, me)
    context = {
        "pipelines": pipelines,
        "pipeline": chosen,
        "stages": pipeline_service.stages(session, chosen.id) if chosen else [],
        "kinds": STAGE_KINDS,
        "requirable": _requirable(session, me),
        "new_stage": new_stage or FormState(values={"kind": "open", "probability": "0"}),
        "new_pipeline": new_pipeline or FormState(),
        "pipeline_form": pipeline_form,
        "rows": rows or {},
        "sections": sections_for(me),
    }
    return render(request, "settings/pipelines.html", context, status_code=status)


def _back(pipeline_id: uuid.UUID) -> Response:
    return redirect(f"/settings/pipelines?pipeline={pipeline_id}")


@router.get("/settings/pipelines")
def pipelines_page(request: Request, session: DbSession, me: CurrentUser, pipeline: str | None = None) -> Response:
    require_admin(me)
    return _page(request, session, me, pipeline)


def _typed(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _saved(session: Session, write: Any) -> list[FieldError]:
    """Run one service write in a savepoint; its field errors, or none."""
    try:
        with session.begin_nested():
            write()
            session.flush()
    except ValidationFailed as exc:
        return exc.errors or [FieldError("name", exc.detail)]
    except IntegrityError:
        # Names are unique per pipeline (and pipelines by name): the database says so.
        return [FieldError("name", "is taken: another one here has that name")]
    return []


@router.post("/settings/pipelines")
def create_pipeline(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed = _typed(form, ("name",))
    data, errors = schema_checked(deal_schemas.PipelineCreate, typed)
    created: list[Pipeline] = []
    errors = errors or _saved(session, lambda: created.append(pipeline_service.create(session, data=data, actor=me.actor)))
    if errors:
        return _page(request, session, me, new_pipeline=to_state(typed, errors, ["name"]), status=422)
    flash(request, f"Pipeline {created[0].name} added; now give it its stages.")
    return _back(created[0].id)


@router.post("/settings/pipelines/{pipeline_id}")
def update_pipeline(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor, write=True)
    typed = _typed(form, PIPELINE_FIELDS)
    data, errors = schema_checked(deal_schemas.PipelineUpdate, typed, extra={"is_default": form.get("is_default") == "on"})
    errors = errors or _saved(session, lambda: pipeline_service.update(session, pipeline, data=data, actor=me.actor))
    if errors:
        session.refresh(pipeline)
        state = to_state({**typed, "is_default": str(form.get("is_default") == "on")}, errors, PIPELINE_FIELDS)
        return _page(request, session, me, str(pipeline_id), pipeline_form=state, status=422)
    flash(request, f"Pipeline {pipeline.name} saved.")
    return _back(pipeline_id)


def _stage_input(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    required = [str(v) for v in form.getlist("required_fields")]
    return _typed(form, STAGE_FIELDS), {"required_fields": required}


@router.post("/settings/pipelines/{pipeline_id}/stages")
def add_stage(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor)
    typed, extra = _stage_input(form)
    data, errors = schema_checked(deal_schemas.StageCreate, typed, extra={"pipeline_id": pipeline.id, **extra})
    errors = errors or _saved(session, lambda: stage_service.create(session, data=data, actor=me.actor))
    if errors:
        state = to_state(typed, errors, [*STAGE_FIELDS, "required_fields"])
        state.values["required_fields"] = ",".join(extra["required_fields"])
        return _page(request, session, me, str(pipeline_id), new_stage=state, status=422)
    flash(request, f"Stage {typed['name']} added to {pipeline.name}.")
    return _back(pipeline_id)


@router.post("/settings/stages/{stage_id}")
def update_stage(stage_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    stage = stage_service.get(session, stage_id, actor=me.actor, write=True)
    typed, extra = _stage_input(form)
    data, errors = schema_checked(deal_schemas.StageUpdate, typed, extra=extra)
    errors = errors or _saved(session, lambda: stage_service.update(session, stage, data=data, actor=me.actor))
    if errors:
        problems = Problems()
        problems.add(errors, [*STAGE_FIELDS, "required_fields"])
        session.refresh(stage)
        return _page(request, session, me, str(stage.pipeline_id), rows={str(stage_id): problems}, status=422)
    flash(request, f"Stage {stage.name} saved.")
    return _back(stage.pipeline_id)


@router.post("/settings/stages/{stage_id}/delete")
def delete_stage(stage_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    """Remove a stage no deal is in (the database refuses otherwise; the page says why)."""
    require_admin(me)
    stage = stage_service.get(session, stage_id, actor=me.actor, write=True)
    pipeline_id, name = stage.pipeline_id, stage.name
    try:
        with session.begin_nested():
            stage_service.delete(session, stage, actor=me.actor)
    except IntegrityError:
        problems = Problems()
        problems.add([FieldError("", f"deals are in {name} (or were, in their history); move them first")], ())
        session.expire_all()
        return _page(request, session, me, str(pipeline_id), rows={str(stage_id): problems}, status=409)
    flash(request, f"Stage {name} removed.")
    return _back(pipeline_id)


def _reorder(session: Session, stages: list[Stage], ordered: list[uuid.UUID], me: WebUser) -> None:
    """Give the stages the positions of ``ordered`` (which must name each of them once)."""
    if sorted(ordered) != sorted(s.id for s in stages):
        raise ValidationFailed.on("stage_id", "name every stage of the pipeline once")
    by_id = {s.id: s for s in stages}
    for position, stage_id in enumerate(ordered, start=1):
        if by_id[stage_id].position != position:
            stage_service.update(session, by_id[stage_id], data={"position": position}, actor=me.actor)


@router.post("/settings/pipelines/{pipeline_id}/order")
def reorder_stages(pipeline_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    """The dragged order, sent by the page's script."""
    require_admin(me)
    pipeline = pipeline_service.get(session, pipeline_id, actor=me.actor)
    ordered = [parse_uuid(str(v)) for v in form.getlist("stage_id")]
    if None in ordered:
        raise ValidationFailed.on("stage_id", "is not a stage")
    _reorder(session, pipeline_service.stages(session, pipeline.id), [i for i in ordered if i], me)
    return Response(status_code=204)


@router.post("/settings/stages/{stage_id}/move")
def move_stage(stage_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    """One place up or down: the same order without a mouse."""
    require_admin(me)
    stage = stage_service.get(session, stage_id, actor=me.actor)
    ids = [s.id for s in pipeline_service.stages(session, stage.pipeline_id)]
    here = ids.index(stage.id)
    there = here - 1 if form.get("direction") == "up" else here + 1
    if 0 <= there < len(ids):
        ids[here], ids[there] = ids[there], ids[here]
        _reorder(session, pipeline_service.stages(session, stage.pipeline_id), ids, me)
    return _back(stage.pipeline_id)
