"""A job's progress page (its bar polled by HTMX until the work ends) and the list of a
person's recent jobs, where work that was left running is found again."""

import uuid

from fastapi import Request, Response

from pipewise.jobs import service as jobs
from pipewise.jobs.models import Job
from pipewise.web.common import CurrentUser, DbSession, render, web_router

router = web_router()
POLL_SECONDS = 1


def progress_context(job: Job) -> dict[str, object]:
    """What the progress fragment shows of ``job`` (pages that embed it pass the same)."""
    return {"job": job, "percent": jobs.percent(job), "interrupted": jobs.interrupted(job), "poll": POLL_SECONDS}


@router.get("/jobs")
def job_list(request: Request, session: DbSession, me: CurrentUser) -> Response:
    items = [progress_context(job) for job in jobs.recent_jobs(session, me.actor, limit=30)]
    return render(request, "jobs/list.html", {"items": items})


@router.get("/jobs/{job_id}")
def job_page(job_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return render(request, "jobs/page.html", progress_context(jobs.visible_job(session, job_id, me.actor)))


@router.get("/jobs/{job_id}/progress")
def job_progress(job_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return render(request, "jobs/_progress.html", progress_context(jobs.visible_job(session, job_id, me.actor)))
