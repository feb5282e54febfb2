"""The lead desk: a rep's queue by score with the reasons, the CSV import wizard, the
duplicate review, the scoring model page and the routing rules editor. Thin pages over
the lead, scoring and routing services."""

import json
import secrets
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pipewise.api.deps import DbSession
from pipewise.assignment import service as routing
from pipewise.auth.models import Team, User
from pipewise.db.session import session_scope
from pipewise.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from pipewise.leads import dedup, importer, merge, scores
from pipewise.leads.models import FormSubmission, Lead, LeadImport
from pipewise.records.service import RecordService
from pipewise.scoring import service as scoring
from pipewise.scoring import training
from pipewise.scoring.models import ScoringModel, ScoringTraining
from pipewise.web.common import CurrentUser, WebUser, flash, redirect, render, web_router

router = web_router()
UPLOADS = Path(tempfile.gettempdir()) / "pipewise-lead-imports"
QUEUE_LIMIT = 200


def _manager(me: WebUser) -> None:
    if not me.actor.is_manager:
        raise PermissionDenied("only managers and admins may change this")


# -- the rep's queue --


@router.get("/lead-queue")
def queue(request: Request, session: DbSession, me: CurrentUser, scope: str = "mine") -> Response:
    stmt = select(Lead).where(Lead.status.not_in(("converted", "disqualified")))
    if scope == "mine":
        stmt = stmt.where(Lead.owner_id == me.id)
    elif scope == "queues":
        stmt = stmt.where(Lead.owner_id.is_(None))
    repo = RecordService("lead").repository(session)
    leads = list(session.scalars(repo.visible(stmt, me.actor).order_by(Lead.score.desc(), Lead.created_at.desc()).limit(QUEUE_LIMIT)))
    speed = dict(session.execute(
        select(FormSubmission.lead_id, FormSubmission.speed_to_lead_ms)
        .where(FormSubmission.lead_id.in_([lead.id for lead in leads]), FormSubmission.speed_to_lead_ms.is_not(None))
    ).all()) if leads else {}
    return render(request, "leads/queue.html", {"leads": leads, "speed": speed, "scope": scope, "tab": "queue"})


# -- import wizard --


def _upload_path(token: str) -> Path:
    if not token.isalnum():
        raise ValidationFailed.on("file", "the uploaded file has expired; upload it again")
    return UPLOADS / f"{token}.csv"


@router.get("/lead-import")
def import_start(request: Request, session: DbSession, me: CurrentUser) -> Response:
    stmt = importer.visible_imports(select(LeadImport), me.actor)
    recent = list(session.scalars(stmt.order_by(LeadImport.created_at.desc()).limit(10)))
    return render(request, "leads/import.html", {"step": "upload", "recent": recent, "tab": "import"})


@router.post("/lead-import/preview")
async def import_preview(request: Request, session: DbSession, me: CurrentUser) -> Response:
    form = await request.form()
    upload = form.get("file")
    delimiter = str(form.get("delimiter") or ",")
    if not isinstance(upload, UploadFile) or not upload.filename:
        flash(request, "Choose a CSV file first.", "error")
        return redirect("/lead-import")
    UPLOADS.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    with _upload_path(token).open("wb") as f:
        while chunk := await upload.read(1024 * 1024):
            f.write(chunk)
    return await run_in_threadpool(_preview_page, request, token, upload.filename, delimiter, None)


def _preview_page(request: Request, token: str, filename: str, delimiter: str, mapping: dict[str, str] | None,
                  errors: list[FieldError] | None = None) -> Response:
    with _upload_path(token).open("rb") as f:
        result = importer.preview(f, mapping=mapping, delimiter=delimiter)
    return render(request, "leads/import.html", {
        "step": "map", "token": token, "filename": filename, "delimiter": delimiter, "preview": result,
        "fields": importer.TARGETS, "errors": errors or [], "tab": "import",
    }, status_code=422 if errors else 200)


def _run_import(request: Request, session: Session, me: WebUser, form: Any) -> Response:
    token, filename = str(form.get("token", "")), str(form.get("filename", "upload.csv"))
    delimiter = str(form.get("delimiter") or ",")
    path = _upload_path(token)
    if not path.exists():
        raise ValidationFailed.on("file", "the uploaded file has expired; upload it again")
    mapping = {key[4:]: str(value) for key, value in form.items() if key.startswith("map:") and value}
    options = importer.ImportOptions(mapping=mapping, on_duplicate=str(form.get("on_duplicate", "skip")), delimiter=delimiter)
    # The import writes in batches of its own; the page's transaction must not hold the lock.
    session.rollback()
    try:
        with session_scope() as s:
            job = importer.start(s, filename=filename, options=options, actor=me.actor)
        with path.open("rb") as f:
            importer.run(session_scope, job.id, f, options=options, actor=me.actor)
    except ValidationFailed as exc:
        return _preview_page(request, token, filename, delimiter, mapping, exc.errors)
    path.unlink(missing_ok=True)
    return redirect(f"/lead-import/{job.id}")


@router.post("/lead-import/run")
async def import_run(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_run_import, request, session, me, await request.form())


@router.get("/lead-import/{import_id}")
def import_result(import_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    job = session.scalar(importer.visible_imports(select(LeadImport).where(LeadImport.id == import_id), me.actor))
    if job is None:
        raise NotFound(f"no import with id {import_id}")
    rows = importer.rows_of(session, import_id, limit=500)
    return render(request, "leads/import.html", {"step": "done", "job": job, "rows": rows, "tab": "import"})


# -- duplicate review --


def _summary(session: Session, record_type: str, record_id: uuid.UUID, me: WebUser) -> Any:
    return RecordService(record_type).repository(session).get(record_id, me.actor)


@router.get("/lead-duplicates")
def duplicates(request: Request, session: DbSession, me: CurrentUser) -> Response:
    pairs = []
    for pair in dedup.review_list(session, me.actor, limit=100):
        left = _summary(session, pair.record_type, pair.record_id, me)
        right = _summary(session, pair.candidate_type, pair.candidate_id, me)
        if left is not None and right is not None:
            pairs.append({"pair": pair, "left": left, "right": right})
    return render(request, "leads/duplicates.html", {"pairs": pairs[:100], "tab": "duplicates"})


def _resolve(request: Request, session: Session, me: WebUser, form: Any, candidate_id: int) -> Response:
    pair = dedup.reviewable_pair(session, me.actor, candidate_id)
    if pair is None:
        raise ValidationFailed.on("pair", "that pair was already handled")
    action = form.get("action")
    if action == "dismiss":
        pair.status = "dismissed"
        flash(request, "Marked as not a duplicate.")
    elif pair.record_type != pair.candidate_type:
        raise ValidationFailed.on("pair", "a lead and a contact are not merged; convert the lead instead")
    else:
        keep_left = form.get("keep") != "right"
        survivor, other = (pair.record_id, pair.candidate_id) if keep_left else (pair.candidate_id, pair.record_id)
        merge.merge(session, pair.record_type, survivor, [other], actor=me.actor)
        flash(request, f"Merged; nothing was lost — see the {pair.record_type}'s history.")
    return redirect("/lead-duplicates")


@router.post("/lead-duplicates/{candidate_id}")
async def resolve(candidate_id: int, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_resolve, request, session, me, await request.form(), candidate_id)


@router.post("/lead-duplicates-scan")
def scan(request: Request, session: DbSession, me: CurrentUser) -> Response:
    _manager(me)
    flash(request, f"{dedup.scan(session):,} new possible duplicates.")
    return redirect("/lead-duplicates")


# -- scoring --


@router.get("/lead-scoring")
def scoring_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    models = list(session.scalars(select(ScoringModel).order_by(ScoringModel.created_at.desc()).limit(5)))
    latest = session.scalar(select(ScoringTraining).order_by(ScoringTraining.requested_at.desc()).limit(1))
    cfg = scoring.config(session)
    return render(request, "leads/scoring.html", {
        "config": cfg, "rules_json": json.dumps(cfg.fit_rules, indent=2), "models": models, "tab": "scoring",
        "errors": [], "training": latest,
    })


def _save_scoring(request: Request, session: Session, me: WebUser, form: Any) -> Response:
    _manager(me)
    try:
        rules = json.loads(str(form.get("fit_rules") or "[]"))
    except json.JSONDecodeError as exc:
        raise ValidationFailed.on("fit_rules", f"is not JSON ({exc.msg} at line {exc.lineno})") from None
    data = {"fit_rules": rules, "mql_threshold": int(form.get("mql_threshold") or 60),
            "half_life_days": float(form.get("half_life_days") or 14)}
    with session.begin_nested():
        scoring.update_config(session, data)
    flash(request, f"Scoring saved; {scores.rescore_open(session):,} open leads re-scored.")
    return redirect("/lead-scoring")


@router.post("/lead-scoring")
async def save_scoring(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_save_scoring, request, session, me, await request.form())


@router.post("/lead-scoring/train")
def train(request: Request, session: DbSession, me: CurrentUser) -> Response:
    _manager(me)
    training.request_training(session, actor=me.actor)
    flash(request, "Training queued: the worker trains the model and rescores open leads; this page shows the outcome.")
    return redirect("/lead-scoring")


# -- routing --


@router.get("/lead-routing")
def routing_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    users = list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)))
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    return render(request, "leads/routing.html", {
        "rules": routing.rules(session), "policy": routing.policy(session), "users": users, "teams": teams,
        "names": {u.id: u.name for u in users} | {t.id: t.name for t in teams}, "tab": "routing",
    })


def _routing_action(request: Request, session: Session, me: WebUser, form: Any) -> Response:
    action = form.get("action")
    if action == "add":
        conditions = str(form.get("conditions") or "").strip()
        try:
            tree = json.loads(conditions) if conditions else {}
        except json.JSONDecodeError:
            raise ValidationFailed.on("conditions", "is not JSON in the filter language") from None
        target = str(form.get("target_type"))
        data = {"name": str(form.get("name") or ""), "conditions": tree, "target_type": target,
                "prefer_account_owner": form.get("prefer_account_owner") == "on"}
        if target == "user" and form.get("user_id"):
            data["user_id"] = uuid.UUID(str(form.get("user_id")))
        if target == "team" and form.get("team_id"):
            data["team_id"] = uuid.UUID(str(form.get("team_id")))
        if target == "queue":
            data["queue"] = str(form.get("queue") or "")
        routing.create_rule(session, data, actor=me.actor)
        flash(request, "Rule added.")
    elif action in ("up", "down", "delete", "toggle"):
        rule_id = uuid.UUID(str(form.get("rule_id")))
        if action == "delete":
            routing.delete_rule(session, rule_id, actor=me.actor)
        elif action == "toggle":
            rule = routing.get_rule(session, rule_id)
            routing.update_rule(session, rule_id, {"is_active": not rule.is_active}, actor=me.actor)
        else:
            ids = [r.id for r in routing.rules(session)]
            i = ids.index(rule_id)
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(ids):
                ids[i], ids[j] = ids[j], ids[i]
                routing.reorder(session, ids, actor=me.actor)
    elif action == "policy":
        sla = str(form.get("sla_minutes") or "").strip()
        routing.update_policy(session, {
            "sla_minutes": int(sla) if sla.isdigit() else None, "work_start": str(form.get("work_start")),
            "work_end": str(form.get("work_end")), "timezone": str(form.get("timezone")),
            "workdays": [int(d) for d in form.getlist("workdays")], "reassign_on_breach": form.get("reassign_on_breach") == "on",
        }, actor=me.actor)
        flash(request, "Response-time SLA saved.")
    return redirect("/lead-routing")


@router.post("/lead-routing")
async def routing_action(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return await run_in_threadpool(_routing_action, request, session, me, await request.form())


