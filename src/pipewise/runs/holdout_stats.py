"""The statistics of a holdout comparison, in plain Python (no heavy library at start):

- a difference of two proportions with Newcombe's hybrid score interval (Wilson bounds of
  each group combined; Newcombe 1998, method 10), and the p-value found by inverting it,
  so that "the 95 % interval excludes zero" and "p < 0.05" never disagree;
- a difference of two means with Welch's t interval (Welch–Satterthwaite degrees of
  freedom), and the p-value of "no effect" from the pooled variance (see
  ``mean_difference``);
- Holm's step-down adjustment, for a verdict over several metrics at once;
- the sample size two proportions need to show a given change (normal approximation
  with unequal groups, Fleiss), for "need about N more".

Every difference is "enrolled minus held out"."""

import math
from dataclasses import dataclass
from statistics import NormalDist

NORMAL = NormalDist()
# Above this many degrees of freedom Student's t is the normal distribution to 4 decimals.
NORMAL_DF = 5000.0


@dataclass(frozen=True)
class Difference:
    """An estimated difference with its interval at ``level`` and a two-sided p-value."""

    estimate: float
    low: float
    high: float
    p_value: float
    level: float = 0.95

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class MeanSummary:
    """What a difference of means needs from one group: count, mean, sample variance."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of(cls, values: list[float]) -> "MeanSummary":
        n = len(values)
        if n == 0:
            return cls(0, 0.0, 0.0)
        mean = math.fsum(values) / n
        variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        return cls(n, mean, variance)


def z_for(level: float) -> float:
    return NORMAL.inv_cdf(0.5 + level / 2)


# -- proportions --


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe_bounds(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float]:
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _newcombe_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    """The smallest two-sided level at which Newcombe's interval leaves out zero."""
    d = x1 / n1 - x2 / n2
    if d == 0:
        return 1.0

    def excludes(z: float) -> bool:
        low, high = _newcombe_bounds(x1, n1, x2, n2, z)
        return low > 0 if d > 0 else high < 0

    lo, hi = 0.0, 40.0
    if excludes(hi):
        return 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excludes(mid) else (lo, mid)
    return 2 * (1 - NORMAL.cdf(lo))


def proportion_difference(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> Difference:
    """p1 - p2 with Newcombe's hybrid score interval; needs both groups non-empty."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need at least one record")
    low, high = _newcombe_bounds(x1, n1, x2, n2, z_for(level))
    return Difference(x1 / n1 - x2 / n2, low, high, _newcombe_p_value(x1, n1, x2, n2), level)


# -- means --


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1) < 1e-14:
            break
    return h


def _beta_regularized(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if df >= NORMAL_DF:
        return 2 * (1 - NORMAL.cdf(abs(t)))
    return _beta_regularized(df / 2, 0.5, df / (df + t * t))


def _t_density(t: float, df: float) -> float:
    log = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log - (df + 1) / 2 * math.log1p(t * t / df))


def t_quantile(level: float, df: float) -> float:
    """The t with P(|T| <= t) = ``level``: Cornish–Fisher's expansion from the normal
    quantile, then Newton's steps on the exact tail."""
    z = z_for(level)
    if df >= NORMAL_DF:
        return z
    t = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df * df)
    for _ in range(50):
        step = (t_two_sided_p(t, df) - (1 - level)) / (2 * _t_density(t, df))
        t = max(t + step, t / 2)
        if abs(step) < 1e-12 * t:
            break
    return t


def mean_difference(first: MeanSummary, second: MeanSummary, *, level: float = 0.95) -> Difference:
    """mean1 - mean2 with Welch's interval; needs two values in each group.

    The p-value tests "no effect at all", under which the two groups are alike (the
    holdout was drawn at random), so it uses their pooled variance (Student's t). That
    leans on the larger group's variance rather than the small holdout's, which with
    skewed amounts (a few large deals) is too often underestimated: Welch's own test
    would call an effect too often. The interval, which measures an effect that exists,
    keeps Welch's separate variances."""
    if first.n < 2 or second.n < 2:
        raise ValueError("each group needs at least two values")
    estimate = first.mean - second.mean
    a, b = first.variance / first.n, second.variance / second.n
    se = math.sqrt(a + b)
    pooled_df = first.n + second.n - 2
    pooled = ((first.n - 1) * first.variance + (second.n - 1) * second.variance) / pooled_df
    pooled_se = math.sqrt(pooled * (1 / first.n + 1 / second.n))
    if se == 0 or pooled_se == 0:
        return Difference(estimate, estimate, estimate, 1.0 if estimate == 0 else 0.0, level)
    df = (a + b) ** 2 / (a * a / (first.n - 1) + b * b / (second.n - 1))
    half = t_quantile(level, df) * se
    return Difference(estimate, estimate - half, estimate + half, t_two_sided_p(estimate / pooled_se, pooled_df), level)


# -- several metrics, and how many records a change needs --


def holm(p_values: list[float]) -> list[float]:
    """Holm's adjusted p-values (same order as given): below 0.05 each, the family of
    tests says "no effect anywhere" wrongly at most 5 % of the time."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def records_needed(base_rate: float, change: float, ratio: float, *, alpha: float = 0.05, power: float = 0.8) -> tuple[int, int]:
    """(enrolled, held out) records that show a change of ``change`` from ``base_rate``
    with probability ``power`` at two-sided level ``alpha``; ``ratio`` = enrolled per
    held-out record."""
    p2 = min(max(base_rate, 0.0), 1.0 - change)
    p1 = p2 + change
    pooled = (ratio * p1 + p2) / (1 + ratio)
    z_a, z_b = NORMAL.inv_cdf(1 - alpha / 2), NORMAL.inv_cdf(power)
    root = z_a * math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio)) + z_b * math.sqrt(p1 * (1 - p1) / ratio + p2 * (1 - p2))
    held_out = math.ceil(root * root / (change * change))
    return math.ceil(held_out * ratio), held_out
