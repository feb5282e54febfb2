"""Reports API: one GET per report (JSON: headline figures, tables, chart data) and its
CSV export, each filtered by date range, pipeline, team, owner and lead source, over
what the caller may see. The numbers are defined in docs/reports.md."""

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response

from pipewise.analytics import catalogue
from pipewise.api.deps import CurrentActor, DbSession, api_router

router = api_router(tags=["reports"])


def report_params(
    start: date | None = Query(None, description="First day of the range (default: a year before the end)"),
    end: date | None = Query(None, description="Last day of the range, inclusive (default: today)"),
    pipeline_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    source: str | None = Query(None, max_length=60, description="Lead source (first touch)"),
    interval: Literal["week", "month"] = "month",
) -> dict[str, Any]:
    return {"start": start, "end": end, "pipeline_id": pipeline_id, "team_id": team_id, "owner_id": owner_id,
            "source": source, "interval": interval}


Params = Annotated[dict[str, Any], Depends(report_params)]


@router.get("/reports", summary="The reports there are")
def list_reports(actor: CurrentActor) -> list[dict[str, str]]:
    return [{"slug": k.slug, "title": k.title, "summary": k.summary, "path": f"/api/v1/reports/{k.slug}"}
            for k in catalogue.REPORTS.values()]


def _reader(slug: str) -> Callable[..., Any]:
    def read(session: DbSession, actor: CurrentActor, params: Params) -> dict[str, Any]:
        return catalogue.run_json(session, slug, params, actor=actor)

    return read


def _exporter(slug: str) -> Callable[..., Any]:
    def export(session: DbSession, actor: CurrentActor, params: Params,
               table: str | None = Query(None, max_length=40, description="Which table (default: the first)")) -> Response:
        name, text = catalogue.export(session, slug, {**params, "table": table}, actor=actor)
        return Response(text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return export


for _kind in catalogue.REPORTS.values():
    router.add_api_route(f"/reports/{_kind.slug}", _reader(_kind.slug), methods=["GET"], summary=_kind.title,
                         description=_kind.summary, name=f"report_{_kind.slug.replace('-', '_')}")
    router.add_api_route(f"/reports/{_kind.slug}.csv", _exporter(_kind.slug), methods=["GET"], summary=f"{_kind.title} (CSV)",
                         response_class=Response, name=f"report_{_kind.slug.replace('-', '_')}_csv")
