"""The forecast over HTTP: the period's roll-up by team and rep against quota, each deal's
category with the rep's and manager's calls, quotas, weekly snapshots and what they
show (forecast vs actual, slipped deals, coverage), the predictive forecast, and a
backtest of an uploaded opportunity history."""

import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, File, Query, Request, UploadFile
from sqlalchemy.orm import Session

from pipewise.api.deps import CurrentActor, DbSession, api_router, current_actor
from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow
from pipewise.db.session import get_sessionmaker
from pipewise.errors import PermissionDenied, ValidationFailed
from pipewise.forecasting import quotas, service, snapshots, sources
from pipewise.forecasting import schemas as f
from pipewise.forecasting.periods import parse_period, period_of

router = api_router(prefix="/forecast", tags=["forecast"])
PeriodKey = Annotated[str | None, Query(max_length=10, description="2026-12 or 2026-Q4; the current month if left out")]


def _period(key: str | None) -> Any:
    return parse_period(key) if key else period_of(utcnow().date())


@router.get("", response_model=f.ForecastOut, summary="Category totals by team and rep against quota")
def read_forecast(session: DbSession, actor: CurrentActor, period: PeriodKey = None) -> Any:
    when = _period(period)
    return {"period": when.key, "start": when.start, "end": when.end,
            "rollup": quotas.rollup(session, when, actor=actor)}


@router.get("/deals", response_model=list[f.DealOut], summary="The period's deals with their categories")
def list_deals(session: DbSession, actor: CurrentActor, period: PeriodKey = None, owner_id: uuid.UUID | None = None,
               team_id: uuid.UUID | None = None) -> Any:
    return service.deals_in(session, _period(period), actor=actor, owner_id=owner_id, team_id=team_id)


@router.get("/deals/{deal_id}", response_model=f.DealOut, summary="One deal's categories")
def read_deal(deal_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return service.deal_forecast(session, deal_id, actor=actor)


@router.get("/deals/{deal_id}/calls", response_model=list[f.CallOut], summary="Every call on the deal's category")
def list_calls(deal_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return service.calls_on(session, deal_id, actor=actor)


@router.post("/deals/{deal_id}/calls", status_code=201, response_model=f.CallOut,
             summary="Call the deal's category (the owner: the rep's call; the team's manager: the manager's)")
def make_call(deal_id: uuid.UUID, body: f.CallIn, session: DbSession, actor: CurrentActor) -> Any:
    return service.override(session, deal_id, category=body.category, reason=body.reason, actor=actor)


@router.get("/quotas", response_model=list[f.QuotaOut], summary="The quotas of the period the caller may see")
def list_quotas(session: DbSession, actor: CurrentActor, period: PeriodKey = None) -> Any:
    return quotas.visible_quotas(session, _period(period), actor=actor)


@router.put("/quotas", response_model=f.QuotaOut, summary="Set a user's, a team's or (no id) the company's quota")
def put_quota(body: f.QuotaIn, session: DbSession, actor: CurrentActor) -> Any:
    return quotas.set_quota(session, period=body.period, amount=body.amount, actor=actor, user_id=body.user_id,
                            team_id=body.team_id)


@router.get("/forecast-vs-actual", response_model=f.ForecastVsActualOut, summary="Each snapshot's forecast beside the actual")
def forecast_vs_actual(session: DbSession, actor: CurrentActor, period: PeriodKey = None) -> Any:
    when = _period(period)
    return {"period": when.key, "actual": snapshots.won_in_period(session, when, actor=actor),
            "snapshots": snapshots.trend(session, when, actor=actor)}


@router.get("/slipped", response_model=list[f.SlippedOut], summary="Deals due in the period that are now due later, or lost")
def slipped_deals(session: DbSession, actor: CurrentActor, period: PeriodKey = None) -> Any:
    return snapshots.slipped(session, _period(period), actor=actor)


@router.get("/coverage", response_model=list[f.CoverageOut], summary="Open pipeline over what is left to quota, per snapshot")
def pipeline_coverage(session: DbSession, actor: CurrentActor, period: PeriodKey = None) -> Any:
    when = _period(period)
    return snapshots.coverage(session, when, actor=actor, quota=quotas.rollup(session, when, actor=actor).quota)


@router.post("/snapshots", status_code=201, response_model=f.SnapshotOut, summary="Take a snapshot now (managers)")
def take_snapshot(session: DbSession, actor: CurrentActor) -> Any:
    if not actor.is_manager:
        raise PermissionDenied("only managers and admins may take forecast snapshots")
    return snapshots.take(session, kind="manual")


@router.get("/predictive", response_model=f.PredictiveOut, summary="Per-deal close probabilities and expected revenue")
def predictive_forecast(session: DbSession, actor: CurrentActor, period: PeriodKey = None) -> Any:
    when = _period(period)
    result = sources.predict(session, when, actor=actor)
    if result is None:
        raise ValidationFailed.on("period", f"{when.key} is over: its forecast is what was won")
    return {"period": when.key, **result.as_dict()}


def _reading_session() -> Iterator[Session]:
    """A session that never takes the write lock: a backtest only reads the caller."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _reader(request: Request, session: Annotated[Session, Depends(_reading_session)]) -> Actor:
    return current_actor(request, session)


@router.post("/backtest", response_model=f.BacktestOut,
             summary="Backtest the forecast on an uploaded opportunity history (monthly as-of replays)")
def backtest(actor: Annotated[Actor, Depends(_reader)],
             file: UploadFile = File(..., description="CSV: opportunity_id, sales_agent, product, deal_stage, "
                                                      "engage_date, close_date, close_value")) -> Any:
    from pipewise.forecasting import backtest as replay
    from pipewise.forecasting.history import read_csv

    return replay.run(read_csv(file.file)).as_dict()
