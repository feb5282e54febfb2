"""The predictive forecast of one period, from what was known on its as-of day.

Two parts make the period's revenue:

- **the open pipeline**: each deal open on the as-of day gets the probability that it is
  won before the period ends, from a gradient-boosted model trained on the same moment of
  earlier periods (the deals open then, and whether each was won before that period
  ended; recent periods weigh more), its probabilities mapped by a sigmoid learnt from
  held-out *periods* (each earlier period scored by a model fitted without it), or, with
  fewer than two of those, its log-odds halved toward the base rate;
- **deals not opened yet**: what deals opened after the as-of day of earlier periods won
  before their period ended, averaged over the earlier periods at the same place in the
  quarter (else over all).

The 80 % interval comes from simulating the period many times: each open deal is won or
not by its probability (a Poisson-binomial sum of amounts, each amount scaled by how won
values varied around their segment's mean), new deals arrive as a Poisson count with the
values deals won, and each simulated period carries one shared shock on the odds (how far
each held-out earlier period strayed from what was expected of it).

This module imports NumPy and scikit-learn; callers import it inside functions so that
the app and the CLI start without them."""

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from pipewise.forecasting.history import OPEN, WON, Opportunity, stage_probability
from pipewise.forecasting.periods import add_months, month_of_quarter, quarter_index

LOOKBACK_PERIODS = 12
SIMULATIONS = 2000
CHUNK = 250
RECENCY = 0.5
MIN_TRAINING_ROWS = 30
DEFAULT_SHOCK = 0.35
FEATURES = ("age_days", "month_of_quarter", "quarters_open", "days_left", "stage_probability")


@dataclass(frozen=True)
class DealForecast:
    id: str
    owner: str
    segment: str
    amount: float
    probability: float


@dataclass(frozen=True)
class PeriodForecast:
    at: date
    end: date
    expected: float
    low: float  # 10th percentile
    high: float  # 90th percentile
    open_expected: float
    new_expected: float
    method: str  # "model", or "stage probabilities" when history is too thin
    trained_on: int
    deals: tuple[DealForecast, ...]

    def as_dict(self) -> dict[str, object]:
        return {"at": self.at.isoformat(), "end": self.end.isoformat(), "expected": round(self.expected, 2),
                "low": round(self.low, 2), "high": round(self.high, 2), "open_expected": round(self.open_expected, 2),
                "new_expected": round(self.new_expected, 2), "method": self.method, "trained_on": self.trained_on,
                "deals": [{"id": d.id, "amount": round(d.amount, 2), "probability": round(d.probability, 6)} for d in self.deals]}


class _Known:
    """What the closed deals before one day say: won values by segment, the win rate."""

    def __init__(self, known: list[Opportunity], day: date) -> None:
        closed = [d for d in known if d.closed_on is not None and d.closed_on < day]
        won = [d for d in closed if d.outcome == WON and d.value is not None]
        self.won_values = [d.value for d in won]
        self.mean_won = sum(self.won_values) / len(won) if won else 0.0
        by_segment: dict[str, list[float]] = {}
        for deal in won:
            by_segment.setdefault(deal.segment, []).append(deal.value)  # type: ignore[arg-type]
        self.segment_mean = {segment: sum(v) / len(v) for segment, v in by_segment.items()}
        self.ratios = [d.value / self.segment_mean[d.segment] for d in won if self.segment_mean[d.segment] > 0]
        self.win_rate = len(won) / len(closed) if closed else 0.5

    def amount(self, deal: Opportunity) -> float:
        if deal.amount is not None:
            return deal.amount
        return self.segment_mean.get(deal.segment, self.mean_won)


def _is_open(deal: Opportunity, day: date) -> bool:
    return deal.engaged_on is not None and deal.engaged_on < day and (deal.closed_on is None or deal.closed_on >= day)


def _row(deal: Opportunity, day: date, end: date) -> list[float]:
    stage = stage_probability(deal, day)
    return [
        float((day - deal.engaged_on).days),  # type: ignore[operator]
        float(month_of_quarter(day)),
        float(quarter_index(day) - quarter_index(deal.engaged_on)),  # type: ignore[arg-type]
        float((end - day).days),
        -1.0 if stage is None else stage,  # no stage history: a value no probability takes
    ]


@dataclass
class _Earlier:
    """One earlier period seen from the same moment: its open deals and what came after."""

    day: date
    rows: list[list[float]]
    labels: list[int]
    new_revenue: float
    new_wins: int


def _earlier_periods(known: list[Opportunity], at: date, end: date) -> list[_Earlier]:
    span = (end - at).days
    # Periods before the first recorded close say nothing about how deals close (a history
    # that starts mid-way shows every earlier deal as still open).
    first_close = min((d.closed_on for d in known if d.closed_on), default=at)
    earlier = []
    for back in range(1, LOOKBACK_PERIODS + 1):
        day = add_months(at, -back)
        stop = add_months(end, -back)
        if day < first_close:
            break
        if stop > at or (stop - day).days < span - 3:
            continue
        open_deals = [d for d in known if _is_open(d, day)]
        wins_after = [d for d in known if d.outcome == WON and d.closed_on is not None and day <= d.closed_on < stop]
        new = [d for d in wins_after if d.engaged_on >= day]  # type: ignore[operator]
        earlier.append(_Earlier(
            day=day,
            rows=[_row(d, day, stop) for d in open_deals],
            labels=[int(d.outcome == WON and d.closed_on is not None and d.closed_on < stop) for d in open_deals],
            new_revenue=sum(d.value or 0.0 for d in new),
            new_wins=len(new),
        ))
    return earlier


def _new_booster() -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=60, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=40,
                                          l2_regularization=1.0, random_state=0)


def _booster(rows: list[list[float]], labels: list[int], weights: list[float]) -> object:
    from threadpoolctl import threadpool_limits

    # One thread: small data, and a busy server's other requests keep their cores.
    with threadpool_limits(limits=1):
        return _new_booster().fit(np.asarray(rows), np.asarray(labels), sample_weight=np.asarray(weights))


def _fold_calibrated(rows: list[list[float]], labels: list[int], weights: list[float]) -> object:
    """The booster calibrated by a sigmoid on shuffled held-out rows."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    folds = StratifiedKFold(max(2, min(3, min(sum(labels), len(labels) - sum(labels)))), shuffle=True, random_state=0)
    with threadpool_limits(limits=1):
        return CalibratedClassifierCV(_new_booster(), method="sigmoid", cv=folds).fit(
            np.asarray(rows), np.asarray(labels), sample_weight=np.asarray(weights))


def _probabilities(model: object, rows: list[list[float]]) -> np.ndarray:
    if not rows:
        return np.zeros(0)
    return np.clip(model.predict_proba(np.asarray(rows))[:, 1], 0.0, 1.0)  # type: ignore[attr-defined]


def _place_probabilities(model: object, rows: list[list[float]], earlier: list[_Earlier], at: date) -> np.ndarray:
    """The model's probabilities; for a place in the quarter no training period had, the
    mean over the places it had (trees would give it whichever side of a split it fell on)."""
    seen = sorted({month_of_quarter(e.day) for e in earlier})
    if month_of_quarter(at) in seen or not rows:
        return _probabilities(model, rows)
    place = FEATURES.index("month_of_quarter")
    total = np.zeros(len(rows))
    for value in seen:
        total += _probabilities(model, [r[:place] + [float(value)] + r[place + 1:] for r in rows])
    return total / len(seen)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _trainable(labels: list[int]) -> bool:
    return len(labels) >= MIN_TRAINING_ROWS and 0 < sum(labels) < len(labels) - 1


@dataclass
class _HeldOut:
    period: _Earlier
    weight: float
    scores: np.ndarray  # the booster's probabilities from a fit without this period


def _held_out_periods(earlier: list[_Earlier], weights: list[float], place_seen: bool) -> list[_HeldOut]:
    """Each earlier period in the forecast's situation (``place_seen``: whether another
    period had its place in the quarter), scored by a booster fitted on the other periods."""
    held_out = []
    for index, period in enumerate(earlier):
        others = [(e, w) for i, (e, w) in enumerate(zip(earlier, weights, strict=True)) if i != index]
        rest = [e for e, _w in others]
        labels = [y for e in rest for y in e.labels]
        seen = month_of_quarter(period.day) in {month_of_quarter(e.day) for e in rest}
        if seen != place_seen or not period.rows or not _trainable(labels):
            continue
        booster = _booster([r for e in rest for r in e.rows], labels, [w for e, w in others for _ in e.rows])
        held_out.append(_HeldOut(period, weights[index], _place_probabilities(booster, period.rows, rest, period.day)))
    return held_out


class _PeriodCalibrated:
    """The booster fitted on every earlier period, its probabilities mapped by a sigmoid
    learnt from held-out *periods*: how deals close drifts from one period to the next, so
    a calibration learnt on held-out rows of the same periods is overconfident."""

    def __init__(self, booster: object, held_out: list[_HeldOut]) -> None:
        from sklearn.linear_model import LogisticRegression

        self.booster = booster
        x = np.concatenate([_logit(h.scores) for h in held_out])[:, None]
        y = np.concatenate([np.asarray(h.period.labels) for h in held_out])
        w = np.concatenate([np.full(len(h.scores), h.weight) for h in held_out])
        self.sigmoid = LogisticRegression(C=1e6).fit(x, y, sample_weight=w)

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        if not len(scores):
            return scores
        return self.sigmoid.predict_proba(_logit(scores)[:, None])[:, 1]

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        p = self.calibrate(self.booster.predict_proba(rows)[:, 1])  # type: ignore[attr-defined]
        return np.column_stack([1 - p, p])


class _HalfTrusted:
    """With fewer than two held-out periods like the forecast's, nothing shows how the model
    carries from one period to another: its log-odds count for half, the earlier periods'
    base rate for the other half (a prior worth one period that knows only the base rate)."""

    def __init__(self, model: object, rate: float) -> None:
        self.model, self.base_logit = model, float(_logit(np.asarray(rate)))

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        logits = 0.5 * _logit(self.model.predict_proba(rows)[:, 1]) + 0.5 * self.base_logit  # type: ignore[attr-defined]
        p = 1.0 / (1.0 + np.exp(-logits))
        return np.column_stack([1 - p, p])


def _same_place(earlier: list[_Earlier], at: date) -> list[_Earlier]:
    alike = [e for e in earlier if month_of_quarter(e.day) == month_of_quarter(at)]
    return alike or earlier


def _odds_shock(model: _PeriodCalibrated, held_out: list[_HeldOut]) -> float:
    """How far (in log-odds, root mean square) the won count of each earlier period strayed
    from what a model fitted without that period expected of it: the width of the shared
    shock."""
    shifts = []
    for h in held_out:
        expected, actual = float(model.calibrate(h.scores).sum()), max(sum(h.period.labels), 0.5)
        if expected > 0:
            shifts.append(math.log(actual / expected))
    if len(shifts) < 2:
        return DEFAULT_SHOCK
    return max(0.1, float(np.sqrt(np.mean(np.square(shifts)))))


def _open_deal_model(earlier: list[_Earlier], weights: list[float], at: date) -> tuple[object, float]:
    """The model of the open deals and the width of the shared shock. The calibration only
    learns from held-out periods in the forecast's situation: a period whose place in the
    quarter the other periods had when the forecast's place was seen, one whose place they
    lacked when it was not (the two are scored very differently)."""
    rows = [r for e in earlier for r in e.rows]
    labels = [y for e in earlier for y in e.labels]
    row_weights = [w for w, e in zip(weights, earlier, strict=True) for _ in e.rows]
    place_seen = month_of_quarter(at) in {month_of_quarter(e.day) for e in earlier}
    held_out = _held_out_periods(earlier, weights, place_seen)
    held_labels = [y for h in held_out for y in h.period.labels]
    if len(held_out) < 2 or not 0 < sum(held_labels) < len(held_labels):
        rate = float(np.average(labels, weights=row_weights))
        return _HalfTrusted(_fold_calibrated(rows, labels, row_weights), rate), DEFAULT_SHOCK
    model = _PeriodCalibrated(_booster(rows, labels, row_weights), held_out)
    return model, _odds_shock(model, held_out)


def _simulate(probabilities: np.ndarray, amounts: np.ndarray, known: _Known, new_wins: float, new_values: list[float],
              shock: float, seed: int) -> np.ndarray:
    """Totals of ``SIMULATIONS`` periods, drawn in chunks to keep memory small."""
    rng = np.random.default_rng(seed)
    logits = np.log(np.clip(probabilities, 1e-6, 1 - 1e-6) / np.clip(1 - probabilities, 1e-6, 1))
    ratios = np.asarray(known.ratios or [1.0])
    pool = np.asarray(new_values or [0.0])
    totals = []
    for _chunk in range(SIMULATIONS // CHUNK):
        shocks = rng.normal(0.0, shock, size=CHUNK)
        chances = 1.0 / (1.0 + np.exp(-(logits[None, :] + shocks[:, None])))
        won = rng.random(chances.shape) < chances
        scale = ratios[rng.integers(0, len(ratios), size=won.shape)]
        chunk = (won * scale * amounts[None, :]).sum(axis=1)
        if new_wins > 0 and new_values:
            counts = rng.poisson(new_wins * np.exp(shocks))
            chunk += np.array([pool[rng.integers(0, len(pool), size=n)].sum() for n in counts])
        totals.append(chunk)
    return np.concatenate(totals)


def forecast(known: list[Opportunity], at: date, end: date) -> PeriodForecast:
    """The forecast of [``at``, ``end``) from ``known`` (``history.as_of(…, at)``)."""
    facts = _Known(known, at)
    open_deals = [d for d in known if d.outcome == OPEN and _is_open(d, at)]
    rows = [_row(d, at, end) for d in open_deals]
    amounts = np.asarray([facts.amount(d) for d in open_deals], dtype=float)
    earlier = _earlier_periods(known, at, end)
    train_rows = [r for e in earlier for r in e.rows]
    train_labels = [y for e in earlier for y in e.labels]
    # Each period back counts half as much as the one after it: how deals close drifts.
    period_weights = [RECENCY ** back for back in range(len(earlier))]
    if _trainable(train_labels):
        model, shock = _open_deal_model(earlier, period_weights, at)
        probabilities, method = _place_probabilities(model, rows, earlier, at), "model"
    else:
        probabilities = np.asarray([stage_probability(d, at) or facts.win_rate for d in open_deals], dtype=float)
        shock, method = DEFAULT_SHOCK, "stage probabilities"
    alike = _same_place(earlier, at)
    new_expected = sum(e.new_revenue for e in alike) / len(alike) if alike else 0.0
    new_wins = sum(e.new_wins for e in alike) / len(alike) if alike else 0.0
    new_values = [d.value for d in known if d.outcome == WON and d.value]  # type: ignore[misc]
    mean_new_value = new_expected / new_wins if new_wins else 0.0
    pool = [v * mean_new_value / facts.mean_won for v in new_values] if facts.mean_won else []
    open_expected = float((probabilities * amounts).sum())
    totals = _simulate(probabilities, amounts, facts, new_wins, pool, shock, seed=at.toordinal())
    low, high = (float(v) for v in np.quantile(totals, [0.1, 0.9])) if len(totals) else (0.0, 0.0)
    deals = tuple(DealForecast(d.id, d.owner, d.segment, float(a), float(p))
                  for d, a, p in zip(open_deals, amounts, probabilities, strict=True))
    return PeriodForecast(at=at, end=end, expected=open_expected + new_expected, low=low, high=high,
                          open_expected=open_expected, new_expected=new_expected, method=method,
                          trained_on=len(train_rows), deals=deals)
