"""The reports area: a page per report with its filters, headline figures, a chart and
its tables, and each table as CSV. The numbers come from ``pipewise.analytics``."""

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from pipewise.analytics import catalogue, sql
from pipewise.analytics.results import as_dict
from pipewise.web.common import CurrentUser, DbSession, render, web_router

router = web_router()
FILTER_PARAMS = ("start", "end", "pipeline_id", "team_id", "owner_id", "source", "interval")


def _params(request: Request) -> dict[str, Any]:
    return {name: request.query_params.get(name) for name in (*FILTER_PARAMS, "table")}


@router.get("/reports")
def index(request: Request, me: CurrentUser) -> Response:
    return render(request, "reports/index.html", {"reports": list(catalogue.REPORTS.values())})


def _page(slug: str) -> Callable[..., Response]:
    def page(request: Request, session: DbSession, me: CurrentUser) -> Response:
        flt, report = catalogue.run(session, slug, _params(request), actor=me.actor)
        return render(request, "reports/report.html", {
            "kind": catalogue.REPORTS[slug], "reports": list(catalogue.REPORTS.values()), "report": as_dict(report),
            "filter": flt, "query": flt.as_query(), "choices": sql.filter_choices(session),
        })

    return page


def _csv(slug: str) -> Callable[..., Response]:
    def download(request: Request, session: DbSession, me: CurrentUser) -> Response:
        name, text = catalogue.export(session, slug, _params(request), actor=me.actor)
        return Response(text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return download


for _kind in catalogue.REPORTS.values():
    router.add_api_route(f"/reports/{_kind.slug}", _page(_kind.slug), methods=["GET"], name=f"report_page_{_kind.slug}")
    router.add_api_route(f"/reports/{_kind.slug}.csv", _csv(_kind.slug), methods=["GET"], name=f"report_csv_{_kind.slug}")
