"""Starting an import from an uploaded file, for the API and the web pages alike: the file
is kept until the background job has read it; the job's progress counts rows."""

import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.db.session import session_scope
from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.jobs import service as jobs
from pipewise.jobs.models import Job
from pipewise.records import import_runs
from pipewise.records.import_models import RecordImport
from pipewise.records.imports import ImportOptions, ImportProfile, Preview, preview

UPLOADS = Path(tempfile.gettempdir()) / "pipewise-record-imports"
COPY_CHUNK = 1024 * 1024
MAX_UPLOAD_BYTES = 200_000_000


def keep_upload(stream: BinaryIO) -> str:
    """Store an uploaded file for the steps that follow; its token names it."""
    UPLOADS.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    with upload_path(token).open("wb") as f:
        shutil.copyfileobj(stream, f, COPY_CHUNK)
    if upload_path(token).stat().st_size > MAX_UPLOAD_BYTES:
        upload_path(token).unlink()
        raise ValidationFailed.on("file", f"is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB")
    return token


def upload_path(token: str) -> Path:
    if not token.isalnum() or len(token) != 32:
        raise ValidationFailed.on("file", "the uploaded file has expired; upload it again")
    path = UPLOADS / f"{token}.csv"
    return path


def kept_upload(token: str) -> Path:
    path = upload_path(token)
    if not path.exists():
        raise ValidationFailed.on("file", "the uploaded file has expired; upload it again")
    return path


def preview_upload(session: Session, token: str, *, profile: ImportProfile, options: ImportOptions, actor: Actor,
                   limit: int = 10) -> Preview:
    """The first rows tried in ``session`` and rolled back (the request's own: SQLite has one writer)."""
    with kept_upload(token).open("rb") as f:
        return preview(session, f, profile=profile, actor=actor, options=options, limit=limit)


def start_import(session: Session, token: str, *, profile: ImportProfile, filename: str, options: ImportOptions,
                 actor: Actor, result_url: str) -> tuple[RecordImport, Job]:
    """The import and its background job, begun once ``session`` commits."""
    path = kept_upload(token)
    try:
        record_import = import_runs.start(session, profile=profile, filename=filename, options=options, actor=actor)
    except PipewiseError:
        path.unlink(missing_ok=True)
        raise
    import_id: uuid.UUID = record_import.id
    url = result_url.format(import_id=import_id)
    job = jobs.start(session, kind="record_import", title=f"Import of {filename} ({profile.spec.plural})", actor=actor,
                     result_url=url)

    def work(progress: jobs.Progress) -> str:
        try:
            with path.open("rb") as f:
                import_runs.run(import_id, f, profile=profile, options=options, actor=actor,
                                progress=lambda rows: progress(rows, step=f"{rows:,} rows read"))
        finally:
            path.unlink(missing_ok=True)
        return url

    jobs.run_after_commit(session, job.id, work)
    return record_import, job


def report_chunks(import_id: uuid.UUID) -> Iterator[str]:
    """The row report as CSV, read in a session of its own while the answer streams
    (the caller has checked that the reader may see the import)."""
    with session_scope(write=False) as session:
        job = session.get(RecordImport, import_id)
        if job is not None:
            yield from import_runs.report_csv(session, job)
