"""Starting long work, reporting its progress and reading where it got.

``start`` adds the job row in the caller's transaction and ``run_after_commit`` hands the
work to a background thread once that transaction has committed, so the page that
started it can answer at once and the job page polls the row. The work gets a
``Progress`` to report to; each report is its own short transaction (at most a few a
second), so a reader sees the bar move while the work holds no transaction open.

The threads live in the process that took the request: a job whose process stops is
left ``running`` with a stale heartbeat, and reads as interrupted."""

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import session_scope
from pipewise.db.unit_of_work import unit_of_work
from pipewise.errors import NotFound, PipewiseError
from pipewise.jobs.models import Job

log = logging.getLogger("pipewise.jobs")

REPORT_EVERY_SECONDS = 0.5
SILENT_FOR = timedelta(minutes=10)  # a running job that reported nothing for this long was interrupted
FINISHED = ("done", "failed")
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pipewise-job")
_running: set[Future[None]] = set()


def start(session: Session, *, kind: str, title: str, actor: Actor, total: int | None = None, unit: str = "rows",
          result_url: str | None = None) -> Job:
    job = Job(id=uuid7(), kind=kind, title=title[:200], actor_id=actor.id if actor.id.int else None, status="queued",
              total=total, unit=unit, result_url=result_url)
    session.add(job)
    session.flush()
    return job


class Progress:
    """What a running job reports to: how much is done (of how much) and what it is doing."""

    def __init__(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self._last = 0.0
        self._step: str | None = None

    def __call__(self, done: int, total: int | None = None, *, step: str | None = None) -> None:
        now = time.monotonic()
        if step == self._step and now - self._last < REPORT_EVERY_SECONDS:
            return
        self._last, self._step = now, step
        values: dict[str, Any] = {"done": done, "heartbeat_at": utcnow(), "status": "running"}
        if total is not None:
            values["total"] = total
        if step is not None:
            values["step"] = step[:200]
        _set(self.job_id, **values)


Work = Callable[[Progress], str | None]  # returns where the outcome is shown, or None


def run(job_id: uuid.UUID, work: Work) -> None:
    """Run ``work`` as job ``job_id`` here and now, recording how it ends."""
    _set(job_id, status="running", started_at=utcnow(), heartbeat_at=utcnow())
    try:
        result_url = work(Progress(job_id))
    except PipewiseError as exc:
        _set(job_id, status="failed", error=exc.detail, finished_at=utcnow())
        return
    except Exception as exc:  # noqa: BLE001 - the job is marked failed; the trace goes to the log
        log.exception("job %s failed", job_id)
        _set(job_id, status="failed", error=f"the work stopped on an unexpected error ({type(exc).__name__})",
             finished_at=utcnow())
        return
    values: dict[str, Any] = {"status": "done", "done": func.coalesce(Job.total, Job.done), "finished_at": utcnow(),
                              "heartbeat_at": utcnow()}
    if result_url:
        values["result_url"] = result_url
    _set(job_id, **values)


def run_after_commit(session: Session, job_id: uuid.UUID, work: Work) -> None:
    """Run ``work`` in a background thread once the caller's transaction has committed."""
    unit_of_work(session).after_commit(lambda: _submit(job_id, work))


def _submit(job_id: uuid.UUID, work: Work) -> None:
    future = _pool.submit(run, job_id, work)
    _running.add(future)
    future.add_done_callback(_running.discard)


def settle(timeout: float = 60.0) -> None:
    """Wait until the background jobs this process started have ended (tests, shutdown)."""
    wait_futures(list(_running), timeout=timeout)


def record_outcome(session: Session, job_id: uuid.UUID, *, step: str | None = None, error: str | None = None) -> None:
    """End job ``job_id`` in the caller's transaction (work the worker runs): done, or failed with ``error``."""
    now = utcnow()
    values: dict[str, Any] = {"status": "failed", "error": error} if error else {"status": "done", "step": step}
    session.execute(update(Job).where(Job.id == job_id).values(finished_at=now, heartbeat_at=now, updated_at=now, **values))


def _set(job_id: uuid.UUID, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(), **values))


def visible(stmt: Any, actor: Actor) -> Any:
    """``stmt`` limited to the jobs ``actor`` may see: their own and their teams' (admins all)."""
    clause = owner_clause(Job.actor_id, actor, write=False)
    return stmt if clause is None else stmt.where(Job.actor_id.is_not(None), clause)


def visible_job(session: Session, job_id: uuid.UUID, actor: Actor) -> Job:
    job = session.scalar(visible(select(Job).where(Job.id == job_id), actor))
    if job is None:
        raise NotFound(f"no job with id {job_id}")
    return job


def for_result(session: Session, result_url: str, actor: Actor) -> Job | None:
    """The latest job whose outcome is shown at ``result_url``."""
    stmt = visible(select(Job).where(Job.result_url == result_url), actor)
    return session.scalar(stmt.order_by(Job.created_at.desc()).limit(1))


def recent_jobs(session: Session, actor: Actor, *, kind: str | None = None, limit: int = 10) -> list[Job]:
    stmt = visible(select(Job), actor)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    return list(session.scalars(stmt.order_by(Job.created_at.desc()).limit(limit)))


def interrupted(job: Job) -> bool:
    """A job left running by a process that stopped."""
    beat = job.heartbeat_at or job.started_at or job.created_at
    return job.status not in FINISHED and beat is not None and utcnow() - beat > SILENT_FOR


def percent(job: Job) -> int | None:
    if job.status == "done":
        return 100
    if not job.total:
        return None
    return max(0, min(100, int(job.done * 100 / job.total)))


def wait_for(job_id: uuid.UUID, *, timeout: float = 60.0) -> None:
    """Block until job ``job_id`` has finished (for the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(write=False) as session:
            if session.scalar(select(Job.status).where(Job.id == job_id)) in FINISHED:
                return
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not finish within {timeout} s")
