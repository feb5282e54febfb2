"""The forecast page: a manager's view of the period — category totals by team and rep
against quota (quotas set inline), the deals with their calls (changed inline), the
trend of the weekly snapshots, slipped deals, and the predictive forecast (loaded after
the page, as it trains a model)."""

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request, Response

from pipewise.db.base import utcnow
from pipewise.errors import PermissionDenied, ValidationFailed
from pipewise.forecasting import categories, quotas, service, snapshots, sources
from pipewise.forecasting.periods import Period, add_months_first, parse_period, period_of
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, is_htmx, redirect, render, web_router
from pipewise.web.forms import parse_uuid

router = web_router()
TOP_PREDICTED = 10


def _period(key: str | None) -> Period:
    try:
        return parse_period(key) if key else period_of(utcnow().date())
    except ValidationFailed:
        return period_of(utcnow().date())


def period_choices(current: Period) -> list[Period]:
    today = period_of(utcnow().date())
    months = [period_of(add_months_first(today.start, offset)) for offset in range(-5, 3)]
    quarter = period_of(today.start, quarter=True)
    quarters = [period_of(add_months_first(quarter.start, offset), quarter=True) for offset in (-6, -3, 0, 3)]
    choices = months + quarters
    return choices if current in choices else [current, *choices]


def _chart(points: list[snapshots.TrendPoint]) -> dict[str, Any]:
    return {"labels": [p.taken_at.strftime("%d %b") for p in points],
            "series": {"Closed": [float(p.closed) for p in points], "Commit": [float(p.commit) for p in points],
                       "Best case": [float(p.best_case) for p in points], "Pipeline": [float(p.pipeline) for p in points]}}


def _page(request: Request, session: Any, me: WebUser, period: Period, owner_id: uuid.UUID | None,
          team_id: uuid.UUID | None) -> Response:
    rollup = quotas.rollup(session, period, actor=me.actor)
    points = snapshots.trend(session, period, actor=me.actor)
    return render(request, "forecast/page.html", {
        "period": period, "periods": period_choices(period), "rollup": rollup,
        "deals": service.deals_in(session, period, actor=me.actor, owner_id=owner_id, team_id=team_id, limit=500),
        "owner_id": owner_id, "team_id": team_id, "chart": _chart(points), "points": points,
        "slipped": snapshots.slipped(session, period, actor=me.actor, limit=50),
        "callable": categories.CALLABLE, "labels": categories.LABELS,
    })


@router.get("/forecast")
def forecast_page(request: Request, session: DbSession, me: CurrentUser, period: str | None = None,
                  owner_id: str | None = None, team_id: str | None = None) -> Response:
    return _page(request, session, me, _period(period), parse_uuid(owner_id), parse_uuid(team_id))


@router.get("/forecast/predictive")
def predictive_panel(request: Request, session: DbSession, me: CurrentUser, period: str | None = None) -> Response:
    when = _period(period)
    result = sources.predict(session, when, actor=me.actor)
    top: list[Any] = []
    if result is not None:
        ranked = sorted(result.deals, key=lambda d: d.probability * d.amount, reverse=True)[:TOP_PREDICTED]
        names = service.deal_names(session, [uuid.UUID(d.id) for d in ranked], actor=me.actor)
        top = [(uuid.UUID(d.id), names.get(uuid.UUID(d.id), ""), d) for d in ranked]
    return render(request, "forecast/_predictive.html", {"period": when, "result": result, "top": top})


@router.post("/forecast/deals/{deal_id}/call")
def call_category(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    error = None
    try:
        with session.begin_nested():
            service.override(session, deal_id, category=str(form.get("category") or ""),
                             reason=str(form.get("reason") or ""), actor=me.actor)
    except ValidationFailed as exc:
        error = exc
    deal = service.deal_forecast(session, deal_id, actor=me.actor)
    if not is_htmx(request):
        return redirect(f"/forecast?period={form.get('period') or ''}")
    return render(request, "forecast/_deal_row.html", {"deal": deal, "error": error, "callable": categories.CALLABLE,
                                                       "labels": categories.LABELS, "period": _period(str(form.get("period") or ""))},
                  status_code=error.status if error else 200)


@router.post("/forecast/quotas")
def set_quota(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    period = _period(str(form.get("period") or ""))
    scope = str(form.get("scope") or "")
    kind, _, raw_id = scope.partition(":")
    target = parse_uuid(raw_id)
    text = str(form.get("amount") or "").replace(",", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = text  # the service names it as the bad amount
    quotas.set_quota(session, period=period.key, amount=amount, actor=me.actor,
                     user_id=target if kind == "user" else None, team_id=target if kind == "team" else None)
    return redirect(f"/forecast?period={period.key}")


@router.post("/forecast/snapshots")
def snapshot_now(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    if not me.actor.is_manager:
        raise PermissionDenied("only managers and admins may take forecast snapshots")
    snapshots.take(session, kind="manual")
    return redirect(f"/forecast?period={_period(str(form.get('period') or '')).key}")
