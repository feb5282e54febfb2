"""CSV import of accounts, contacts and deals over HTTP: a preview (the columns, a guessed
mapping, the first rows with each cell's problem), the import as a background job, and
its row report (JSON or CSV)."""

import json
import uuid
from typing import Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.leads_import import ImportOut
from pipewise.dataio import service
from pipewise.dataio.profiles import PROFILES
from pipewise.errors import ValidationFailed
from pipewise.records import import_runs
from pipewise.records.bounds import INT64
from pipewise.records.imports import ImportOptions, ImportProfile, mappable
from pipewise.records.imports import preview as preview_rows
from pipewise.schemas import OutputModel

router = api_router(tags=["record import"])


class RecordImportOut(ImportOut):
    record_type: str
    mode: str
    dry_run: bool


class StartedImportOut(RecordImportOut):
    job_id: uuid.UUID


class ImportRowOut(OutputModel):
    line: int
    outcome: str
    record_id: uuid.UUID | None
    errors: dict[str, str]
    excerpt: str | None


class PreviewRowOut(OutputModel):
    line: int
    outcome: str
    errors: dict[str, str]
    cells: dict[str, str]


class ImportPreviewOut(OutputModel):
    headers: list[str]
    mapping: dict[str, str]
    fields: list[str]
    rows: list[PreviewRowOut]


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ValidationFailed.on("mapping", "is not JSON (send an object of CSV column → field)") from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValidationFailed.on("mapping", "must be an object of CSV column → field")
    return {k: v for k, v in mapping.items() if v}


def _options(mapping: str | None, on_duplicate: str, mode: str, dry_run: bool, delimiter: str) -> ImportOptions:
    options = ImportOptions(mapping=parse_mapping(mapping), on_duplicate=on_duplicate, mode=mode, dry_run=dry_run,
                            delimiter=delimiter)
    options.check()
    return options


def _add_import_routes(profile: ImportProfile) -> None:
    base = f"/{profile.spec.plural}/import"

    @router.post(f"{base}/preview", response_model=ImportPreviewOut,
                 summary=f"Preview a CSV of {profile.spec.plural}: columns, a guessed mapping, the first rows")
    def preview(session: DbSession, actor: CurrentActor, file: UploadFile = File(...), mapping: str | None = Form(None),
                on_duplicate: str = Form("skip"), delimiter: str = Form(",")) -> Any:
        """Nothing is written: the first rows are tried and rolled back, each with its problems by field."""
        options = _options(mapping, on_duplicate, "per_row", True, delimiter)
        profile.service.check_may_create(actor)
        result = preview_rows(session, file.file, profile=profile, options=options, actor=actor)
        return {"headers": result.headers, "mapping": result.mapping, "fields": mappable(session, profile),
                "rows": [PreviewRowOut.model_validate(row, from_attributes=True) for row in result.rows]}

    @router.post(base, response_model=StartedImportOut, status_code=202,
                 summary=f"Import a CSV of {profile.spec.plural} (a background job)")
    def run_import(
        session: DbSession,
        actor: CurrentActor,
        file: UploadFile = File(...),
        mapping: str | None = Form(None, description="JSON: CSV column → field; omitted: the recognised columns"),
        on_duplicate: str = Form("skip", description="skip | update | create, for a record that exists"),
        mode: str = Form("per_row", description="per_row: good rows land, bad ones are reported; "
                                                "all_or_nothing: every row lands or none"),
        dry_run: bool = Form(False, description="try every row and write nothing"),
        delimiter: str = Form(","),
    ) -> Any:
        """Answers at once; read `/record-imports/{id}` until its status is no longer pending or running."""
        options = _options(mapping, on_duplicate, mode, dry_run, delimiter)
        token = service.keep_upload(file.file)
        record_import, job = service.start_import(session, token, profile=profile, filename=file.filename or "upload.csv",
                                                  options=options, actor=actor, result_url="/imports/{import_id}")
        return {**RecordImportOut.model_validate(record_import).model_dump(), "job_id": job.id}


for _profile in PROFILES:
    _add_import_routes(_profile)


imports_router: APIRouter = api_router(prefix="/record-imports", tags=["record import"])


@imports_router.get("", response_model=list[RecordImportOut], summary="Recent imports of accounts, contacts and deals")
def list_imports(session: DbSession, actor: CurrentActor, record_type: str | None = None) -> Any:
    return import_runs.recent_imports(session, actor, record_type=record_type, limit=100)


@imports_router.get("/{import_id}", response_model=RecordImportOut)
def read_import(import_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return import_runs.visible_import(session, import_id, actor)


@imports_router.get("/{import_id}/rows", response_model=list[ImportRowOut], summary="The row report")
def report_rows(import_id: uuid.UUID, session: DbSession, actor: CurrentActor, outcome: str | None = None,
                after_line: int = Query(0, ge=0, le=INT64[1]), limit: int = Query(500, ge=1, le=5000)) -> Any:
    import_runs.visible_import(session, import_id, actor)
    return import_runs.rows_of(session, import_id, outcome=outcome, after_line=after_line, limit=limit)


@imports_router.get("/{import_id}/report.csv", summary="The row report as CSV: line, outcome, record, problem by field")
def report_csv(import_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> StreamingResponse:
    import_runs.visible_import(session, import_id, actor)
    return StreamingResponse(service.report_chunks(import_id), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'})


router.include_router(imports_router)
