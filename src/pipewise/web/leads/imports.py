"""The CSV import wizard: upload, map the columns on a preview, run in the background with a
progress page, read the row report."""

import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from pipewise.db.session import session_scope
from pipewise.errors import FieldError, ValidationFailed
from pipewise.jobs import service as jobs
from pipewise.leads import importer, queries
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router
from pipewise.web.jobs.pages import progress_context

router = web_router()
UPLOADS = Path(tempfile.gettempdir()) / "pipewise-lead-imports"
COPY_CHUNK = 1024 * 1024


def _upload_path(token: str) -> Path:
    if not token.isalnum():
        raise ValidationFailed.on("file", "the uploaded file has expired; upload it again")
    return UPLOADS / f"{token}.csv"


@router.get("/lead-import")
def import_start(request: Request, session: DbSession, me: CurrentUser) -> Response:
    recent = queries.recent_imports(session, me.actor, limit=10)
    return render(request, "leads/import.html", {"step": "upload", "recent": recent, "tab": "import"})


@router.post("/lead-import/preview")
def import_preview(request: Request, me: CurrentUser, form: PostedForm) -> Response:
    upload = form.get("file")
    delimiter = str(form.get("delimiter") or ",")
    if not isinstance(upload, UploadFile) or not upload.filename:
        flash(request, "Choose a CSV file first.", "error")
        return redirect("/lead-import")
    UPLOADS.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    with _upload_path(token).open("wb") as f:
        shutil.copyfileobj(upload.file, f, COPY_CHUNK)
    return _preview_page(request, token, upload.filename, delimiter, None)


def _preview_page(request: Request, token: str, filename: str, delimiter: str, mapping: dict[str, str] | None,
                  errors: list[FieldError] | None = None) -> Response:
    with _upload_path(token).open("rb") as f:
        result = importer.preview(f, mapping=mapping, delimiter=delimiter)
    return render(request, "leads/import.html", {
        "step": "map", "token": token, "filename": filename, "delimiter": delimiter, "preview": result,
        "fields": importer.TARGETS, "errors": errors or [], "tab": "import",
    }, status_code=422 if errors else 200)


@router.post("/lead-import/run")
def import_run(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    """Check the mapping, then import in the background: the answer is the job's progress page."""
    token, filename = str(form.get("token", "")), str(form.get("filename", "upload.csv"))
    delimiter = str(form.get("delimiter") or ",")
    path = _upload_path(token)
    if not path.exists():
        raise ValidationFailed.on("file", "the uploaded file has expired; upload it again")
    mapping = {key[4:]: str(value) for key, value in form.items() if key.startswith("map:") and value}
    options = importer.ImportOptions(mapping=mapping, on_duplicate=str(form.get("on_duplicate", "skip")), delimiter=delimiter)
    try:
        with path.open("rb") as f:
            importer.check_mapping(importer.preview(f, mapping=mapping, delimiter=delimiter, limit=0).headers, mapping)
        lead_import = importer.start(session, filename=filename, options=options, actor=me.actor)
    except ValidationFailed as exc:
        return _preview_page(request, token, filename, delimiter, mapping, exc.errors)
    import_id = lead_import.id
    result_url = f"/lead-import/{import_id}"
    size = path.stat().st_size
    job = jobs.start(session, kind="lead_import", title=f"Import of {filename}", actor=me.actor,
                     total=size, unit="bytes", result_url=result_url)
    actor = me.actor

    def work(progress: jobs.Progress) -> str:
        with path.open("rb") as f:
            importer.run(
                session_scope, import_id, f, options=options, actor=actor,
                progress=lambda rows, read: progress(read, step=f"{rows:,} rows read"),
                finishing=lambda rows: progress(size, step=f"{rows:,} rows read; scoring the new leads"),
            )
        path.unlink(missing_ok=True)
        progress(size, step="Every row is read; the row report is ready")
        return result_url

    jobs.run_after_commit(session, job.id, work)
    return redirect(f"/jobs/{job.id}")


@router.get("/lead-import/{import_id}")
def import_result(import_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    lead_import = importer.visible_import(session, import_id, me.actor)
    rows = importer.rows_of(session, import_id, limit=500)
    running = jobs.for_result(session, f"/lead-import/{import_id}", me.actor) if lead_import.status in ("pending", "running") else None
    return render(request, "leads/import.html", {"step": "done", "job": lead_import, "rows": rows, "tab": "import",
                                                 "running": progress_context(running) if running else None})


@router.get("/lead-import/{import_id}/report.csv")
def import_report(import_id: uuid.UUID, session: DbSession, me: CurrentUser) -> Response:
    """The row report, for the person who may see the import (the API serves it to a token)."""
    importer.visible_import(session, import_id, me.actor)

    def body() -> Iterator[str]:
        with session_scope(write=False) as reading:
            yield from importer.report_csv(reading, import_id)

    return StreamingResponse(body(), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'})
