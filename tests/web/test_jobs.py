"""Long work from the web runs as a job: the page answers at once with a progress page,
the job ends with its outcome, and only its starter, their managers and admins see it."""

import re
import uuid

from sqlalchemy import select

from pipewise.jobs import service as jobs
from pipewise.jobs.models import Job
from tests.leads.support import drain
from tests.web.conftest import WebClient

CSV = b"first_name,last_name,email\nAda,Lovelace,ada@engines.example\nBad,Mail,nope\n"


def job_id_of(response) -> uuid.UUID:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"/jobs/[0-9a-f-]+", response.url.path), response.url
    return uuid.UUID(response.url.path.rsplit("/", 1)[1])


def start_import(web: WebClient) -> uuid.UUID:
    token = web.csrf("/lead-import")
    preview = web.client.post("/lead-import/preview", data={"csrf_token": token}, files={"file": ("people.csv", CSV)})
    upload = re.search(r'name="token" value="([0-9a-f]+)"', preview.text).group(1)
    started = web.post("/lead-import/run", {"token": upload, "filename": "people.csv", "delimiter": ",",
                                            "map:first_name": "first_name", "map:last_name": "last_name", "map:email": "email"})
    assert started.status_code == 200 and "You may leave this page" in started.text
    return job_id_of(started)


def test_an_import_is_a_job_with_a_report_for_the_web_user(web, factory, session):  # type: ignore[no-untyped-def]
    north, south = factory.team(), factory.team()
    rep, manager, stranger = factory.user(team=north), factory.user(role="manager", team=north), factory.user(team=south)
    session.commit()
    web.login(rep)
    job_id = start_import(web)
    jobs.wait_for(job_id)

    progress = web.get(f"/jobs/{job_id}/progress", headers={"HX-Request": "true"})
    assert progress.status_code == 200 and "hx-trigger" not in progress.text  # ended: no more polling
    assert 'value="100"' in progress.text and "See the result" in progress.text
    job = session.scalar(select(Job).where(Job.id == job_id))
    assert (job.status, job.kind, job.done, job.total) == ("done", "lead_import", job.total, len(CSV))
    report = web.get(f"{job.result_url}/report.csv")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert report.text.splitlines()[0] == "line,outcome,reason,excerpt" and "rejected" in report.text
    assert "people.csv" in web.get("/jobs").text

    web.post("/logout")
    web.login(manager)
    assert web.get(f"/jobs/{job_id}").status_code == 200
    web.post("/logout")
    web.login(stranger)
    assert web.get(f"/jobs/{job_id}").status_code == 404
    assert web.get(f"{job.result_url}/report.csv").status_code == 404
    assert "people.csv" not in web.get("/jobs").text


def test_a_running_job_polls_and_an_abandoned_one_reads_as_interrupted(web, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user()
    job = jobs.start(session, kind="dedup_scan", title="Scan", actor=factory.actor(rep), total=200, unit="groups")
    job.status, job.done = "running", 50
    job.heartbeat_at = job.created_at
    session.commit()
    web.login(rep)
    page = web.get(f"/jobs/{job.id}/progress").text
    assert 'hx-trigger="every 1s"' in page and 'value="25"' in page
    session.execute(Job.__table__.update().values(heartbeat_at=job.created_at - jobs.SILENT_FOR * 2))
    session.commit()
    assert "interrupted" in web.get(f"/jobs/{job.id}/progress").text


def test_a_duplicate_scan_runs_as_a_job(web, factory, session):  # type: ignore[no-untyped-def]
    manager = factory.user(role="manager")
    for _ in range(2):
        factory.lead(owner=manager, first_name="Grace", last_name="Hopper", company="Navy")
    session.commit()
    web.login(manager)
    job_id = job_id_of(web.post("/lead-duplicates-scan"))
    jobs.wait_for(job_id)
    page = web.get(f"/jobs/{job_id}").text
    assert "new possible duplicates found" in page and 'href="/lead-duplicates"' in page


def test_a_training_job_ends_in_the_worker(web, factory, session):  # type: ignore[no-untyped-def]
    manager = factory.user(role="manager")
    session.commit()
    web.login(manager)
    job_id = job_id_of(web.post("/lead-scoring/train"))
    assert "Waiting to start" in web.get(f"/jobs/{job_id}").text
    drain(session)  # the worker trains: too few closed leads here
    page = web.get(f"/jobs/{job_id}").text
    assert "failed" in page and "closed leads" in page
