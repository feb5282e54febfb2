"""The statistics of the holdout report: known values from the literature, and by
simulation on seeded synthetic populations that the 95 % interval covers a true effect
as often as it says, that an automation without effect is rarely called effective, and
that "need about N more" is enough records to see a five-point change."""

import uuid

import pytest

from pipewise.runs import holdout
from pipewise.runs.holdout_effect import METRICS, GroupSummary, compare, more_needed, verdict
from pipewise.runs.holdout_stats import (
    MeanSummary,
    holm,
    mean_difference,
    proportion_difference,
    records_needed,
    t_quantile,
    t_two_sided_p,
    wilson,
)


class TestKnownValues:
    def test_wilson_interval(self):
        # Newcombe (1998), Statistics in Medicine 17, table I: 81/263.
        low, high = wilson(81, 263, 1.959964)
        assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)

    def test_newcombe_difference_of_proportions(self):
        # Newcombe (1998) 17, 873–890, table II example (a): 56/70 against 48/80, method 10.
        d = proportion_difference(56, 70, 48, 80)
        assert (round(d.estimate, 4), round(d.low, 4), round(d.high, 4)) == (0.2, 0.0524, 0.3339)

    def test_the_p_value_agrees_with_the_interval(self):
        for x1, n1, x2, n2 in ((56, 70, 48, 80), (30, 200, 20, 200), (9, 40, 3, 40), (0, 10, 0, 12)):
            d = proportion_difference(x1, n1, x2, n2)
            assert d.excludes_zero == (d.p_value < 0.05), (x1, n1, x2, n2, d)

    def test_student_t(self):
        assert t_quantile(0.95, 10) == pytest.approx(2.228139, abs=1e-5)
        assert t_quantile(0.95, 3.5) == pytest.approx(2.940089, abs=1e-5)
        assert t_two_sided_p(2.228139, 10) == pytest.approx(0.05, abs=1e-6)
        assert t_two_sided_p(1.959964, 1e6) == pytest.approx(0.05, abs=1e-6)

    def test_welch_difference_of_means(self):
        first = MeanSummary.of([27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4])
        second = MeanSummary.of([27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4])
        d = mean_difference(first, second)
        # The interval as R's t.test(a, b) gives it (Welch: df = 24.989, -3.9841 to -0.3492); the
        # p-value of "no effect" with the pooled variance, as t.test(a, b, var.equal = TRUE): 0.02054.
        assert d.estimate == pytest.approx(-2.166667, abs=1e-5)
        assert d.p_value == pytest.approx(0.020545, abs=1e-5)
        assert (d.low, d.high) == (pytest.approx(-3.984096, abs=1e-5), pytest.approx(-0.349237, abs=1e-5))

    def test_holm(self):
        assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])

    def test_records_needed_for_equal_groups(self):
        # 20 % against 25 %, 80 % power, 5 % two-sided: about 1,094 a group (Fleiss, no correction).
        enrolled, held = records_needed(0.20, 0.05, 1.0)
        assert enrolled == held and 1_080 <= held <= 1_100


def _population(rng, size: int, share: int, *, win_rate: float, effect: float):  # type: ignore[no-untyped-def]
    """One synthetic population, split by the holdout hash on random record ids: the
    enrolled win ``effect`` more often; progression, cycle and revenue follow wins."""
    import numpy as np

    raw = rng.bytes(16 * (size + 1))
    subject, *ids = (uuid.UUID(bytes=raw[i:i + 16]) for i in range(0, len(raw), 16))
    held = np.array([holdout.falls_in_holdout("sequence", subject, i, share) for i in ids])
    won = rng.random(size) < np.where(held, win_rate, win_rate + effect)
    return _summaries(rng, held, won)


def _summaries(rng, held, won):  # type: ignore[no-untyped-def]
    import numpy as np

    progressed = won | (rng.random(held.size) < 0.15)
    cycle = rng.gamma(2.0, 30.0, held.size)
    revenue = np.where(won, rng.lognormal(8.0, 1.0, held.size), 0.0)

    def group(mask):  # type: ignore[no-untyped-def]
        winners = mask & won
        return GroupSummary(
            records=int(mask.sum()), progressed=int(progressed[mask].sum()), won=int(won[mask].sum()),
            cycle_days=MeanSummary(int(winners.sum()), float(cycle[winners].mean()), float(cycle[winners].var(ddof=1))),
            revenue=MeanSummary(int(mask.sum()), float(revenue[mask].mean()), float(revenue[mask].var(ddof=1))),
        )

    return group(~held), group(held)


def _win_rate(rows):  # type: ignore[no-untyped-def]
    return next(row for row in rows if row.key == "win_rate")


class TestBySimulation:
    def test_the_interval_covers_a_true_five_point_effect(self):
        import numpy as np

        covered = 0
        for seed in range(200):
            enrolled, held = _population(np.random.default_rng(seed), 2_000, 20, win_rate=0.20, effect=0.05)
            row = _win_rate(compare(enrolled, held))
            covered += row.low <= 0.05 <= row.high
        print(f"coverage of a true +5 point effect: {covered / 200:.3f}")
        assert covered / 200 >= 0.93

    def test_an_automation_without_effect_is_rarely_called_effective(self):
        """A/A: both groups drawn alike. The verdict looks at four metrics; Holm keeps the
        chance of calling any of them an effect at 5 %."""
        import numpy as np

        runs, called, single = 1_000, 0, 0
        for seed in range(runs):
            rng = np.random.default_rng(10_000 + seed)
            held = rng.random(2_000) < 0.15
            won = rng.random(2_000) < 0.20
            enrolled_summary, held_summary = _summaries(rng, held, won)
            rows = compare(enrolled_summary, held_summary)
            state = verdict(enrolled_summary, held_summary, rows, share=15, record_type="contact", what="the sequence").state
            called += state == "effect"
            single += _win_rate(rows).low > 0 or _win_rate(rows).high < 0
        print(f"A/A: verdict claims an effect {called / runs:.3f}; win-rate interval leaves out zero {single / runs:.3f}")
        assert called / runs <= 0.06
        assert single / runs <= 0.06

    def test_need_about_n_more_is_enough_to_see_five_points(self):
        """After a pilot with a 20 % win rate in both groups, the records the verdict asks
        for show a true five-point change in win rate at least three times in four (the
        plan is 80 %)."""
        import numpy as np

        pilot_enrolled, pilot_held = GroupSummary(400, 80, 80, *[MeanSummary(0, 0.0, 0.0)] * 2), GroupSummary(100, 20, 20, *[MeanSummary(0, 0.0, 0.0)] * 2)
        total = 500 + more_needed(pilot_enrolled, pilot_held, 20)
        shown = 0
        for seed in range(200):
            rng = np.random.default_rng(20_000 + seed)
            held = rng.random(total) < 0.20
            won = rng.random(total) < np.where(held, 0.20, 0.25)
            rows = compare(*_summaries(rng, held, won))
            shown += _win_rate(rows).measurable
        print(f"{total} records: a true +5 point change shown {shown / 200:.3f}")
        assert shown / 200 >= 0.75


class TestVerdict:
    def summary(self, records: int, won: int) -> GroupSummary:
        return GroupSummary(records, won, won, MeanSummary(0, 0.0, 0.0), MeanSummary(records, 0.0, 0.0))

    def test_no_records_yet(self):
        empty = self.summary(0, 0)
        out = verdict(empty, empty, compare(empty, empty), share=10, record_type="contact", what="the sequence")
        assert out.state == "no_data" and "next one that would enroll" in out.text

    def test_not_measurable_yet_says_how_many_more(self):
        enrolled, held = self.summary(180, 40), self.summary(20, 4)
        out = verdict(enrolled, held, compare(enrolled, held), share=10, record_type="deal", what="the workflow")
        assert out.state == "no_effect_yet"
        assert out.text == f"No measurable effect yet; need about {out.more_records_needed:,} more deals to detect a 5-point change in win rate."
        assert out.more_records_needed > 1_000

    def test_a_clear_effect_is_named_with_its_interval(self):
        enrolled, held = self.summary(4_000, 1_200), self.summary(1_000, 200)
        rows = compare(enrolled, held)
        out = verdict(enrolled, held, rows, share=20, record_type="contact", what="the sequence “Intro”")
        assert out.state == "effect"
        assert "win rate 10.0 points higher with the sequence “Intro” (95 % interval +7." in out.text
        assert [m.key for m in METRICS] == [row.key for row in rows]
