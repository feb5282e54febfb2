"""The scoring page: fit rules, engagement half-life, the MQL threshold, and the
predictive model's trainings."""

import json

from fastapi import Request, Response

from pipewise.errors import ValidationFailed
from pipewise.jobs import service as jobs
from pipewise.leads import scores
from pipewise.scoring import queries, training
from pipewise.scoring import service as scoring
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, require_manager, web_router

router = web_router()
MODELS_SHOWN = 5


@router.get("/lead-scoring")
def scoring_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    cfg = scoring.config(session)
    return render(request, "leads/scoring.html", {
        "config": cfg, "rules_json": json.dumps(cfg.fit_rules, indent=2), "tab": "scoring", "errors": [],
        "models": queries.recent_models(session, limit=MODELS_SHOWN), "training": queries.latest_training(session),
    })


@router.post("/lead-scoring")
def save_scoring(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_manager(me)
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


@router.post("/lead-scoring/train")
def train(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_manager(me)
    job = jobs.start(session, kind="scoring_training", title="Training of the lead scoring model", actor=me.actor,
                     unit="steps", result_url="/lead-scoring")
    training.request_training(session, actor=me.actor, job_id=job.id)
    return redirect(f"/jobs/{job.id}")
