"""The forecast's shapes over HTTP."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from pipewise.forecasting.backtest import MonthResult
from pipewise.forecasting.service import ForecastDeal
from pipewise.schemas import InputModel, OutputModel

Callable = Literal["pipeline", "best_case", "commit", "omitted"]


class CallIn(InputModel):
    category: Callable
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class CallOut(OutputModel):
    id: int
    deal_id: uuid.UUID
    level: str
    category: str
    previous: str
    reason: str
    actor_id: uuid.UUID | None
    at: datetime


class QuotaIn(InputModel):
    period: Annotated[str, Field(max_length=10, examples=["2026-12", "2026-Q4"])]
    amount: Annotated[Decimal, Field(ge=0, lt=Decimal("1e13"))]
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


class QuotaOut(OutputModel):
    id: uuid.UUID
    period: str
    period_start: date
    period_end: date
    scope: str
    user_id: uuid.UUID | None
    team_id: uuid.UUID | None
    amount: Decimal
    currency: str


# A deal's forecast and a replayed month answer as the service computes them.
DealOut = ForecastDeal


class TotalsOut(OutputModel):
    by_category: dict[str, Decimal]
    deals: int
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    open_pipeline: Decimal


class LineOut(OutputModel):
    kind: str
    id: uuid.UUID | None
    name: str
    quota: Decimal | None
    attainment: float | None
    coverage: float | None
    totals: TotalsOut
    children: list["LineOut"] = []


class ForecastOut(OutputModel):
    period: str
    start: date
    end: date
    rollup: LineOut


class TrendPointOut(OutputModel):
    snapshot_id: uuid.UUID
    taken_at: datetime
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal


class ForecastVsActualOut(OutputModel):
    period: str
    actual: Decimal
    snapshots: list[TrendPointOut]


class SlippedOut(OutputModel):
    deal_id: uuid.UUID
    name: str
    amount: Decimal | None
    was_due: date
    now_due: date | None
    now: str


class CoverageOut(OutputModel):
    taken_at: datetime
    open_pipeline: Decimal
    left_to_quota: Decimal | None
    coverage: float | None


class SnapshotOut(OutputModel):
    id: uuid.UUID
    taken_at: datetime
    kind: str


class PredictedDealOut(OutputModel):
    id: str
    amount: float
    probability: float


class PredictiveOut(OutputModel):
    period: str
    at: date
    expected: float
    low: float
    high: float
    open_expected: float
    new_expected: float
    method: str
    trained_on: int
    deals: list[PredictedDealOut]


BacktestMonthOut = MonthResult


class BacktestOut(OutputModel):
    months: list[BacktestMonthOut]
    mape: float
    bias: float
    brier: float
    calibration_error: float
    covered_months: int
    weighted_pipeline_mape: float
    weighted_pipeline_brier: float
    last_month_mape: float
    deals: int
    skipped_never_engaged: int
