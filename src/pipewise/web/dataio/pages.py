"""Export of any record list (the Export control of a list page, with that page's filters,
search, sort and saved view) and the import wizard of accounts, contacts and deals: upload,
map the columns on a preview, run in the background with a progress page, read and download
the row report."""

import uuid
from collections.abc import Iterator

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import FormData, UploadFile

from pipewise.dataio import service
from pipewise.dataio.domain import EXPORTABLE
from pipewise.dataio.profiles import PROFILES
from pipewise.errors import FieldError, ValidationFailed
from pipewise.jobs import service as jobs
from pipewise.kernel import CrudResource
from pipewise.records import export, import_runs
from pipewise.records.filters import conditions_from_params
from pipewise.records.csvstream import read_records
from pipewise.records.import_columns import read_headers
from pipewise.records.imports import ROW, ImportOptions, ImportProfile, mappable, profile_for, validate_mapping
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, flash, redirect, render, web_router
from pipewise.web.jobs.pages import progress_context
from pipewise.web.records.pages import build_query, list_params
from pipewise.web.records.views import RECORD_VIEWS

router = web_router()
EXPORT_ONLY = ("format",)


# -- export --


def list_query(plural: str, params: dict[str, str]) -> ListQuery:
    """The query of the list page the export was asked from (its own, for the record pages)."""
    view = RECORD_VIEWS.get(plural)
    if view is not None:
        return build_query(view, params)
    conditions = conditions_from_params(params)
    return ListQuery(filter={"all": conditions} if conditions else None, q=params.get("q"),
                     sort=params.get("sort", "-created_at"))


def _add_export_route(plural: str, resource: CrudResource) -> None:
    """``/export/contacts?format=csv&<the list page's query>``: under a prefix of its own, so
    that no record page (``/quotes/{id}``) stands in front of it."""

    @router.get(f"/export/{plural}", name=f"export_{plural}")
    def export_list(request: Request, me: CurrentUser) -> Response:
        params = {k: v for k, v in list_params(request).items() if k not in (*EXPORT_ONLY, "cursor")}
        fmt = export.check_format(request.query_params.get("format", "csv"))
        query = list_query(plural, params)
        body = export.export(resource.service, resource.out, query, me.actor, fmt)
        export.log_export(resource.service, query, me.actor, fmt)
        return StreamingResponse(body, media_type=export.FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{export.filename(resource.service, fmt)}"'})


# -- import --


def _options(form: FormData) -> ImportOptions:
    mapping = {key[4:]: str(value) for key, value in form.items() if key.startswith("map:") and value}
    return ImportOptions(mapping=mapping, on_duplicate=str(form.get("on_duplicate") or "skip"),
                         mode=str(form.get("mode") or "per_row"), dry_run=form.get("dry_run") == "on",
                         delimiter=str(form.get("delimiter") or ","))


def _add_import_routes(profile: ImportProfile) -> None:
    plural = profile.spec.plural
    base = f"/{plural}/import"

    def wizard(request: Request, step: str, status_code: int = 200, **extra: object) -> Response:
        return render(request, "dataio/import.html", {
            "step": step, "profile": profile, "plural": plural, "base": base, "ROW": ROW, **extra,
        }, status_code=status_code)

    def mapping_page(request: Request, session: DbSession, me: CurrentUser, token: str, filename: str,
                     options: ImportOptions, errors: list[FieldError] | None = None) -> Response:
        result = service.preview_upload(session, token, profile=profile, options=options, actor=me.actor)
        return wizard(request, "map", 422 if errors else 200, token=token, filename=filename, options=options,
                      preview=result, fields=mappable(session, profile), errors=errors or [])

    @router.get(base, name=f"{plural}_import")
    def import_start(request: Request, session: DbSession, me: CurrentUser) -> Response:
        recent = import_runs.recent_imports(session, me.actor, record_type=profile.record_type, limit=10)
        return wizard(request, "upload", recent=recent)

    @router.post(f"{base}/preview")
    def import_preview(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            flash(request, "Choose a CSV file first.", "error")
            return redirect(base)
        options = ImportOptions(delimiter=str(form.get("delimiter") or ","))
        token = service.keep_upload(upload.file)
        try:
            options.check()
            return mapping_page(request, session, me, token, upload.filename, options)
        except ValidationFailed as exc:
            service.upload_path(token).unlink(missing_ok=True)
            flash(request, "; ".join(e.message for e in exc.errors) or exc.detail, "error")
            return redirect(base)

    @router.post(f"{base}/run")
    def import_run(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
        """Preview again with the chosen mapping, or check it and import in the background."""
        token, filename = str(form.get("token", "")), str(form.get("filename") or "upload.csv")
        options = _options(form)
        try:
            options.check()
            if form.get("action") == "preview":
                return mapping_page(request, session, me, token, filename, options)
            with service.kept_upload(token).open("rb") as f:
                headers = read_headers(read_records(f, delimiter=options.delimiter))
            validate_mapping(profile, headers, options.mapping or {})
            _, job = service.start_import(session, token, profile=profile, filename=filename, options=options,
                                          actor=me.actor, result_url="/imports/{import_id}")
        except ValidationFailed as exc:
            if not service.upload_path(token).exists():
                raise
            return mapping_page(request, session, me, token, filename, options, exc.errors)
        return redirect(f"/jobs/{job.id}")


@router.get("/imports/{record_import_id}")
def import_result(record_import_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    record_import = import_runs.visible_import(session, record_import_id, me.actor)
    profile = profile_for(record_import.record_type)
    running = None
    if record_import.status in ("pending", "running"):
        running = jobs.for_result(session, f"/imports/{record_import_id}", me.actor)
    rows = [row for row in import_runs.rows_of(session, record_import_id, limit=2000) if row.errors][:500]
    return render(request, "dataio/import.html", {
        "step": "done", "profile": profile, "plural": profile.spec.plural, "base": f"/{profile.spec.plural}/import",
        "job": record_import, "rows": rows, "ROW": ROW, "running": progress_context(running) if running else None,
    })


@router.get("/imports/{record_import_id}/report.csv")
def import_report(record_import_id: uuid.UUID, session: DbSession, me: CurrentUser) -> Response:
    import_runs.visible_import(session, record_import_id, me.actor)

    def body() -> Iterator[str]:
        yield from service.report_chunks(record_import_id)

    return StreamingResponse(body(), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="import-{record_import_id}-report.csv"'})


# Read when the app is built, after the domains have registered (EXPORTABLE is filled).
for _profile in PROFILES:
    _add_import_routes(_profile)
for _plural, _resource in EXPORTABLE.items():
    _add_export_route(_plural, _resource)
