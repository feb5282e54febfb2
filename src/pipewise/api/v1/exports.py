"""``GET /api/v1/<type>/export``: any record list as CSV or JSON, for every record type
with a CRUD surface. The list's own query applies (``field=value`` filters, ``filter``,
``q``, ``sort``, ``view``) and the caller's visibility; the answer streams. The format is
``?format=csv|json``, else the ``Accept`` header (``application/json``), else CSV."""

import uuid
from collections.abc import Iterable
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.crud import parse_list_query, saved_view_for
from pipewise.kernel import CrudResource
from pipewise.records import export

EXPORT_PARAMS = frozenset({"format"})


def chosen_format(request: Request, fmt: str | None) -> str:
    if fmt:
        return export.check_format(fmt)
    return "json" if "application/json" in request.headers.get("accept", "") else "csv"


def without_format(request: Request) -> Request:
    """The request as the list reads it: ``format`` is the export's, not a filter."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in EXPORT_PARAMS]
    return Request({**request.scope, "query_string": urlencode(kept).encode()})


def export_router(resource: CrudResource) -> APIRouter:
    service, out = resource.service, resource.out
    router = api_router(prefix=resource.path, tags=[resource.tag])

    @router.get("/export", summary=f"Export {service.spec.plural} as CSV or JSON",
                responses={200: {"content": {"text/csv": {}, "application/json": {}}}})
    def export_records(
        request: Request,
        session: DbSession,
        actor: CurrentActor,
        format: str | None = Query(None, description="csv or json; omitted: by the Accept header, else csv"),
        q: str | None = Query(None, description="search, as the list"),
        sort: str = Query("-created_at", description="field, '-' prefix for descending"),
        filter: str | None = Query(None, description="JSON filter tree, as the list"),
        view: uuid.UUID | None = Query(None, description="a saved view's id: its filter (and sort) apply too"),
    ) -> StreamingResponse:
        """Every record of the list the same query would page through (filters as the list:
        `field=value`, `field__op=value`, `custom.<key>`), visible to the caller; streamed.
        CSV cells that would start a formula are quoted; custom fields are `custom.<key>` columns."""
        fmt = chosen_format(request, format)
        saved = saved_view_for(session, view, actor, service.spec.name)
        query = parse_list_query(without_format(request), q, sort, None, 1, filter, saved)
        body = export.export(service, out, query, actor, fmt)
        export.log_export(service, query, actor, fmt)
        return StreamingResponse(body, media_type=export.FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{export.filename(service, fmt)}"'})

    return router


def export_routes(resources: Iterable[CrudResource]) -> APIRouter:
    router = api_router()
    for resource in resources:
        router.include_router(export_router(resource))
    return router
