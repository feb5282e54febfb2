"""Replaying an opportunity history month by month: on the first day of each month the
forecast sees only what was known then (``history.as_of``), and is scored against what
the month brought, beside two baselines a sales team already has:

- **weighted pipeline**: every open deal whose expected close date falls in the month,
  times its stage probability (the win rate of the deals closed so far when the history
  keeps no stages). The expected close date is the engagement day plus the median days
  from engagement to close of the deals closed so far;
- **last month**: the revenue won in the month before.

Per month: the absolute percentage error (APE) and signed error of the expected revenue,
the deal-level Brier score and calibration error of the open deals' probabilities (did
each deal open on the first day close won within the month?), and whether the 80 %
interval held the actual revenue. The summary pools the deals of every month for Brier
and calibration and averages the monthly errors (MAPE, bias)."""

import statistics
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from pipewise.forecasting.history import WON, Opportunity, as_of
from pipewise.forecasting.periods import add_months_first, month_start

CALIBRATION_BINS = 10
MAX_MONTHS = 36  # the most recent ones, when a history is longer


@dataclass(frozen=True)
class MonthResult:
    month: str
    actual: float
    forecast: float
    low: float
    high: float
    weighted_pipeline: float
    last_month: float
    ape: float
    bias: float
    weighted_pipeline_ape: float
    last_month_ape: float
    brier: float
    weighted_pipeline_brier: float
    calibration_error: float
    covered: bool
    open_deals: int
    method: str


@dataclass(frozen=True)
class BacktestReport:
    months: list[MonthResult]
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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def calibration_error(probabilities: list[float], outcomes: list[int], bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: over equal-width probability bins, the gap between the
    mean probability and the share that happened, weighted by the bin's deals."""
    if not probabilities:
        return 0.0
    totals: dict[int, list[float]] = {}
    for p, y in zip(probabilities, outcomes, strict=True):
        cell = totals.setdefault(min(int(p * bins), bins - 1), [0.0, 0.0, 0.0])
        cell[0] += p
        cell[1] += y
        cell[2] += 1
    return sum(abs(p - y) for p, y, _n in totals.values()) / len(probabilities)


def brier(probabilities: list[float], outcomes: list[int]) -> float:
    if not probabilities:
        return 0.0
    return sum((p - y) ** 2 for p, y in zip(probabilities, outcomes, strict=True)) / len(probabilities)


def _won_in(history: list[Opportunity], start: date, end: date) -> dict[str, float]:
    return {d.id: d.value or 0.0 for d in history if d.outcome == WON and d.closed_on and start <= d.closed_on < end}


def weighted_pipeline(known: list[Opportunity], start: date, end: date) -> dict[str, float]:
    """Each open deal's probability in the weighted-pipeline baseline (0 outside the month)."""
    closed = [d for d in known if d.closed_on is not None]
    if not closed:
        return {}
    cycle = timedelta(days=statistics.median((d.closed_on - d.engaged_on).days for d in closed))  # type: ignore[operator]
    win_rate = sum(d.outcome == WON for d in closed) / len(closed)
    chances = {}
    for deal in known:
        if deal.closed_on is None:
            stage = deal.stages[-1].probability if deal.stages else win_rate
            chances[deal.id] = stage if start <= deal.engaged_on + cycle < end else 0.0  # type: ignore[operator]
    return chances


def backtest_months(history: list[Opportunity]) -> list[date]:
    """First days of the months to replay: after a full month of closes is known, up to the
    last month the history covers to its end."""
    closes = [d.closed_on for d in history if d.closed_on]
    last_day = max([*closes, *(d.engaged_on for d in history if d.engaged_on)])
    month = add_months_first(month_start(min(closes)), 1)
    months = []
    while add_months_first(month, 1) <= last_day + timedelta(days=1):
        months.append(month)
        month = add_months_first(month, 1)
    return months[-MAX_MONTHS:]


def _ape(predicted: float, actual: float) -> float:
    return abs(predicted - actual) / actual if actual else 0.0


def replay_month(history: list[Opportunity], start: date) -> tuple[MonthResult, list[float], list[int]]:
    from pipewise.forecasting.predictive import forecast  # NumPy and scikit-learn load on first use

    end = add_months_first(start, 1)
    known = as_of(history, start)
    result = forecast(known, start, end)
    won_now = _won_in(history, start, end)
    actual = sum(won_now.values())
    outcomes = [int(d.id in won_now) for d in result.deals]
    probabilities = [d.probability for d in result.deals]
    chances = weighted_pipeline(known, start, end)
    weighted = sum(chances.get(d.id, 0.0) * d.amount for d in result.deals)
    last_month = sum(_won_in(known, add_months_first(start, -1), start).values())
    month = MonthResult(
        month=start.strftime("%Y-%m"), actual=round(actual, 2), forecast=round(result.expected, 2),
        low=round(result.low, 2), high=round(result.high, 2), weighted_pipeline=round(weighted, 2),
        last_month=round(last_month, 2), ape=_ape(result.expected, actual),
        bias=(result.expected - actual) / actual if actual else 0.0,
        weighted_pipeline_ape=_ape(weighted, actual), last_month_ape=_ape(last_month, actual),
        brier=brier(probabilities, outcomes),
        weighted_pipeline_brier=brier([chances.get(d.id, 0.0) for d in result.deals], outcomes),
        calibration_error=calibration_error(probabilities, outcomes),
        covered=result.low <= actual <= result.high, open_deals=len(result.deals), method=result.method,
    )
    return month, probabilities, outcomes


def run(history: list[Opportunity]) -> BacktestReport:
    months, all_p, all_y, baseline_p = [], [], [], []
    for start in backtest_months(history):
        month, probabilities, outcomes = replay_month(history, start)
        months.append(month)
        all_p += probabilities
        all_y += outcomes
        baseline_p.append(month.weighted_pipeline_brier * len(outcomes))
    count = len(months) or 1
    return BacktestReport(
        months=months,
        mape=sum(m.ape for m in months) / count,
        bias=sum(m.bias for m in months) / count,
        brier=brier(all_p, all_y),
        calibration_error=calibration_error(all_p, all_y),
        covered_months=sum(m.covered for m in months),
        weighted_pipeline_mape=sum(m.weighted_pipeline_ape for m in months) / count,
        weighted_pipeline_brier=sum(baseline_p) / len(all_y) if all_y else 0.0,
        last_month_mape=sum(m.last_month_ape for m in months) / count,
        deals=len(history),
        skipped_never_engaged=sum(d.engaged_on is None for d in history),
    )
