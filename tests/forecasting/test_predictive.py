"""The predictive forecast's rules for thin histories, on small made-up data."""

from datetime import date

import numpy as np

from pipewise.forecasting import predictive
from pipewise.forecasting.predictive import FEATURES, _Earlier, _HalfTrusted, _place_probabilities


class _ByPlace:
    """A stand-in model whose probability is read off the month's place in the quarter."""

    CHANCE = {1.0: 0.1, 2.0: 0.4, 3.0: 0.7}

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        p = np.asarray([self.CHANCE[row[FEATURES.index("month_of_quarter")]] for row in rows])
        return np.column_stack([1 - p, p])


def _period(day: date) -> _Earlier:
    return _Earlier(day=day, rows=[], labels=[], new_revenue=0.0, new_wins=0)


def test_a_place_in_the_quarter_no_training_period_had_gets_the_mean_of_the_places_seen():
    row = [10.0, 2.0, 0.0, 31.0, -1.0]  # a second month
    seen = [_period(date(2017, 4, 1)), _period(date(2017, 3, 1))]  # a first and a third
    assert abs(float(_place_probabilities(_ByPlace(), [row], seen, date(2017, 5, 1))[0]) - (0.1 + 0.7) / 2) < 1e-12
    with_second = [*seen, _period(date(2017, 2, 1))]
    assert float(_place_probabilities(_ByPlace(), [row], with_second, date(2017, 5, 1))[0]) == 0.4


def test_with_one_earlier_period_the_model_counts_for_half_in_log_odds():
    half = _HalfTrusted(_ByPlace(), rate=0.5)
    rows = np.asarray([[10.0, m, 0.0, 31.0, -1.0] for m in (1.0, 3.0)])
    low, high = half.predict_proba(rows)[:, 1]
    assert 0.1 < low < 0.5 < high < 0.7
    assert abs(predictive._logit(np.asarray(high)) - predictive._logit(np.asarray(0.7)) / 2) < 1e-9


def test_held_out_periods_that_never_won_fall_back_to_the_half_trusted_model():
    """Only the first of three periods has wins: holding it out leaves nothing to learn
    from, and the two periods that can be held out won nothing, so there is no sigmoid to
    fit on them."""
    rng = np.random.default_rng(0)

    def period(day: date, wins: bool) -> _Earlier:
        rows = [[float(age), 1.0, 0.0, 30.0, -1.0] for age in rng.integers(1, 100, size=60)]
        labels = [int(wins and row[0] > 50) for row in rows]
        return _Earlier(day=day, rows=rows, labels=labels, new_revenue=0.0, new_wins=0)

    earlier = [period(date(2017, 7, 1), True), period(date(2017, 4, 1), False), period(date(2017, 1, 1), False)]
    model, shock = predictive._open_deal_model(earlier, [1.0, 0.5, 0.25], date(2017, 10, 1))
    assert isinstance(model, _HalfTrusted) and shock == predictive.DEFAULT_SHOCK
    assert model.predict_proba(np.asarray(earlier[0].rows)).shape == (60, 2)
