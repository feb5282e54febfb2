"""CSV import over HTTP: preview with a suggested mapping, the import itself, and its
report (every rejected or skipped row with its line number and reason)."""

import json
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from pipewise.api.deps import api_router, current_actor
from pipewise.auth.visibility import Actor
from pipewise.db.session import get_sessionmaker, session_scope
from pipewise.errors import ValidationFailed
from pipewise.leads import importer, queries
from pipewise.leads.models import LeadImport
from pipewise.records.bounds import INT64
from pipewise.schemas import OutputModel

router = api_router(prefix="/lead-imports", tags=["lead import"])


def reading_session() -> Iterator[Session]:
    """A session that never takes the write lock: the import writes in its own batches."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


ReadSession = Annotated[Session, Depends(reading_session)]


def import_actor(request: Request, session: ReadSession) -> Actor:
    return current_actor(request, session)


ImportActor = Annotated[Actor, Depends(import_actor)]


class ImportOut(OutputModel):
    id: uuid.UUID
    filename: str
    status: str
    mapping: dict[str, str]
    on_duplicate: str
    total_rows: int
    created_count: int
    updated_count: int
    skipped_count: int
    rejected_count: int
    error: str | None


class ImportRowOut(OutputModel):
    line: int
    outcome: str
    reason: str
    excerpt: str | None


class PreviewOut(OutputModel):
    headers: list[str]
    mapping: dict[str, str]
    fields: list[str]
    rows: list[dict[str, Any]]


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError:
        raise ValidationFailed.on("mapping", "is not JSON (send an object of CSV column → lead field)") from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValidationFailed.on("mapping", "must be an object of CSV column → lead field")
    return {k: v for k, v in mapping.items() if v}


@router.post("/preview", response_model=PreviewOut, summary="Columns, a suggested mapping and the first rows")
def preview(actor: ImportActor, file: UploadFile = File(...), mapping: str | None = Form(None), delimiter: str = Form(","),
            default_country: str | None = Form(None)) -> Any:
    result = importer.preview(file.file, mapping=_mapping(mapping), delimiter=delimiter, default_country=default_country)
    return {"headers": result.headers, "mapping": result.mapping, "fields": list(importer.TARGETS), "rows": result.rows}


@router.post("", response_model=ImportOut, status_code=201, summary="Import a CSV of leads")
def run_import(
    actor: ImportActor,
    file: UploadFile = File(...),
    mapping: str | None = Form(None, description="JSON: CSV column → lead field; omitted: recognised columns"),
    on_duplicate: str = Form("skip", description="skip | update | create, for an e-mail that exists"),
    delimiter: str = Form(","),
    default_country: str | None = Form(None, description="ISO code for phone numbers without a country"),
) -> Any:
    options = importer.ImportOptions(mapping=_mapping(mapping), on_duplicate=on_duplicate, delimiter=delimiter,
                                     default_country=default_country)
    with session_scope() as session:
        job = importer.start(session, filename=file.filename or "upload.csv", options=options, actor=actor)
    importer.run(session_scope, job.id, file.file, options=options, actor=actor)
    with session_scope(write=False) as session:
        return ImportOut.model_validate(_job(session, job.id, actor))


def _job(session: Session, import_id: uuid.UUID, actor: Actor) -> LeadImport:
    return importer.visible_import(session, import_id, actor)


@router.get("", response_model=list[ImportOut], summary="Recent imports")
def list_imports(session: ReadSession, actor: ImportActor) -> Any:
    return queries.recent_imports(session, actor, limit=100)


@router.get("/{import_id}", response_model=ImportOut)
def read_import(import_id: uuid.UUID, session: ReadSession, actor: ImportActor) -> Any:
    return _job(session, import_id, actor)


@router.get("/{import_id}/rows", response_model=list[ImportRowOut], summary="The row report")
def report_rows(import_id: uuid.UUID, session: ReadSession, actor: ImportActor, outcome: str | None = None,
                after_line: int = Query(0, ge=0, le=INT64[1]), limit: int = Query(500, ge=1, le=5000)) -> Any:
    _job(session, import_id, actor)
    return importer.rows_of(session, import_id, outcome=outcome, after_line=after_line, limit=limit)


@router.get("/{import_id}/report.csv", summary="The row report as CSV")
def report_csv(import_id: uuid.UUID, session: ReadSession, actor: ImportActor) -> StreamingResponse:
    _job(session, import_id, actor)

    return StreamingResponse(importer.report_csv(session, import_id), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'})
