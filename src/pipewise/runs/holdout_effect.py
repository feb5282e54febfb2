"""The effect report of a holdout: records assigned to the enrolled group against records
held out, on four metrics, each with its 95 % interval, and a verdict in plain words.

Both groups are compared as assigned (intent to treat): an enrolled record counts as
enrolled even if a guard later stopped its run, since leaving those out would compare
the records automation kept with all the records it never touched. The metrics:

- stage progression: the share of records with a deal created, or moved to a later
  stage (a win included), after assignment;
- win rate: the share of records with a deal won after assignment (of all assigned
  records, not of closed deals: restricting to closed deals would compare groups that
  automation itself shaped);
- cycle length: among records with such a win, the days from assignment (or the deal's
  creation, if later) to the first win;
- revenue: the amount won after assignment, per assigned record (zero for most).

The verdict claims an effect only for a metric whose Holm-adjusted p-value is below
0.05, so that with four metrics an automation without effect is declared to have one at
most 5 % of the time; otherwise it says how many more records would show a change of
five points in win rate with 80 % power (at Holm's first level, 0.05 / 4)."""

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from pipewise.runs.holdout import HoldoutAssignment
from pipewise.runs.holdout_stats import Difference, MeanSummary, holm, mean_difference, proportion_difference, records_needed

LEVEL = 0.95
SIGNIFICANCE = 0.05
DETECTABLE_CHANGE = 0.05  # five points of win rate: the change "need about N more" is about
UNKNOWN_RATE = 0.475  # before any record: the win rate that needs the most records for that change
POWER = 0.8


@dataclass(frozen=True)
class RecordOutcome:
    """What followed one assigned record (see the module's definitions)."""

    progressed: bool = False
    won: bool = False
    cycle_days: float | None = None
    revenue: float = 0.0


NOTHING = RecordOutcome()


@dataclass(frozen=True)
class GroupSummary:
    records: int
    progressed: int
    won: int
    cycle_days: MeanSummary
    revenue: MeanSummary

    @classmethod
    def of(cls, outcomes: list[RecordOutcome]) -> "GroupSummary":
        return cls(
            records=len(outcomes),
            progressed=sum(o.progressed for o in outcomes),
            won=sum(o.won for o in outcomes),
            cycle_days=MeanSummary.of([o.cycle_days for o in outcomes if o.cycle_days is not None]),
            revenue=MeanSummary.of([o.revenue for o in outcomes]),
        )


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    definition: str
    unit: Literal["points", "days", "amount"]
    lower_is_better: bool = False


METRICS = (
    Metric("stage_progression", "Stage progression", "share of records with a deal created or moved forward after assignment", "points"),
    Metric("win_rate", "Win rate", "share of records with a deal won after assignment", "points"),
    Metric("cycle_length", "Cycle length", "days from assignment (or the deal's creation) to the first win, among winners", "days",
           lower_is_better=True),
    Metric("revenue", "Revenue per record", "amount won after assignment, per assigned record", "amount"),
)


# -- what the API and the panel show --


class GroupOut(BaseModel):
    records: int
    progressed: int
    won: int
    revenue: float


class MetricOut(BaseModel):
    key: str
    label: str
    definition: str
    unit: str
    enrolled: float | None  # a share (0–1) or a mean
    held_out: float | None
    difference: float | None  # enrolled minus held out
    low: float | None
    high: float | None
    p_value: float | None
    adjusted_p_value: float | None  # Holm, over the metrics that could be compared
    measurable: bool


class VerdictOut(BaseModel):
    state: Literal["off", "no_data", "too_early", "no_effect_yet", "no_effect", "effect"]
    text: str
    more_records_needed: int | None


class HoldoutEffect(BaseModel):
    scope: str
    subject_id: uuid.UUID
    name: str
    share: int
    record_type: str
    enrolled: GroupOut
    held_out: GroupOut
    metrics: list[MetricOut]
    verdict: VerdictOut
    level: float = LEVEL


# -- comparing --


def _values(metric: Metric, group: GroupSummary) -> float | None:
    if metric.key == "stage_progression":
        return group.progressed / group.records if group.records else None
    if metric.key == "win_rate":
        return group.won / group.records if group.records else None
    summary = group.cycle_days if metric.key == "cycle_length" else group.revenue
    return summary.mean if summary.n else None


def _difference(metric: Metric, enrolled: GroupSummary, held: GroupSummary) -> Difference | None:
    try:
        if metric.key == "stage_progression":
            return proportion_difference(enrolled.progressed, enrolled.records, held.progressed, held.records, level=LEVEL)
        if metric.key == "win_rate":
            return proportion_difference(enrolled.won, enrolled.records, held.won, held.records, level=LEVEL)
        if metric.key == "cycle_length":
            return mean_difference(enrolled.cycle_days, held.cycle_days, level=LEVEL)
        return mean_difference(enrolled.revenue, held.revenue, level=LEVEL)
    except ValueError:  # too few records in a group for this metric yet
        return None


def compare(enrolled: GroupSummary, held: GroupSummary) -> list[MetricOut]:
    """Each metric with its interval, and whether it holds up across the four (Holm)."""
    differences = [_difference(metric, enrolled, held) for metric in METRICS]
    tested = [d for d in differences if d is not None]
    adjusted = iter(holm([d.p_value for d in tested]))
    rows = []
    for metric, diff in zip(METRICS, differences, strict=True):
        adjusted_p = next(adjusted) if diff is not None else None
        rows.append(MetricOut(
            key=metric.key, label=metric.label, definition=metric.definition, unit=metric.unit,
            enrolled=_values(metric, enrolled), held_out=_values(metric, held),
            difference=diff.estimate if diff else None, low=diff.low if diff else None, high=diff.high if diff else None,
            p_value=diff.p_value if diff else None, adjusted_p_value=adjusted_p,
            measurable=adjusted_p is not None and adjusted_p < SIGNIFICANCE,
        ))
    return rows


def more_needed(enrolled: GroupSummary, held: GroupSummary, share: int) -> int:
    """How many more assigned records would show a five-point change in win rate."""
    if enrolled.records and held.records:
        ratio = enrolled.records / held.records
    else:
        ratio = (100 - share) / share if share else 9.0
    total = enrolled.records + held.records
    base = held.won / held.records if held.records else (enrolled.won / enrolled.records if enrolled.records else UNKNOWN_RATE)
    need_enrolled, need_held = records_needed(base, DETECTABLE_CHANGE, ratio, alpha=SIGNIFICANCE / len(METRICS), power=POWER)
    return max(0, need_enrolled + need_held - total)


# -- the verdict --


def plural(record_type: str) -> str:
    return {"activity": "activities"}.get(record_type, f"{record_type}s")


def _number(value: float, unit: str) -> str:
    if unit == "points":
        return f"{abs(value) * 100:.1f} points"
    if unit == "days":
        return f"{abs(value):.1f} days"
    return f"{abs(value):,.2f}"


def _range(row: MetricOut) -> str:
    scale = 100 if row.unit == "points" else 1
    return f"95 % interval {row.low * scale:+,.1f} to {row.high * scale:+,.1f}"  # type: ignore[operator]


def _effect_phrase(row: MetricOut, metric: Metric, noun: str, what: str) -> str:
    higher = (row.difference or 0) > 0
    if metric.unit == "days":
        direction = "longer" if higher else "shorter"
    else:
        direction = "higher" if higher else "lower"
    per = f" per {noun}" if metric.unit == "amount" else ""
    return f"{metric.label.lower()} {_number(row.difference or 0, metric.unit)} {direction}{per} with {what} ({_range(row)})"


def verdict(
    enrolled: GroupSummary, held: GroupSummary, rows: list[MetricOut], *, share: int, record_type: str, what: str,
) -> VerdictOut:
    nouns = plural(record_type)
    if not enrolled.records and not held.records:
        if not share:
            return VerdictOut(state="off", text=f"No holdout is set: hold out 5 to 20 % of the {nouns} to measure the effect of {what}.",
                              more_records_needed=None)
        return VerdictOut(state="no_data", text=f"No {nouns} assigned yet: the holdout starts with the next one that would enroll.",
                          more_records_needed=more_needed(enrolled, held, share))
    more = more_needed(enrolled, held, share)
    if not enrolled.records or not held.records:
        return VerdictOut(
            state="too_early",
            text=f"Too early to tell: {enrolled.records:,} enrolled and {held.records:,} held out so far; need about {more:,} more {nouns}.",
            more_records_needed=more,
        )
    effects = [_effect_phrase(row, metric, record_type, what) for row, metric in zip(rows, METRICS, strict=True) if row.measurable]
    if effects:
        return VerdictOut(state="effect", text="Measurable effect: " + "; ".join(effects) + ".", more_records_needed=None)
    if more > 0:
        return VerdictOut(
            state="no_effect_yet",
            text=f"No measurable effect yet; need about {more:,} more {nouns} to detect a 5-point change in win rate.",
            more_records_needed=more,
        )
    win = next(row for row in rows if row.key == "win_rate")
    return VerdictOut(
        state="no_effect",
        text=f"No measurable effect: a 5-point change in win rate would most likely have shown by now; "
             f"the win rate differs by {win.low * 100:+.1f} to {win.high * 100:+.1f} points (95 % interval).",  # type: ignore[operator]
        more_records_needed=0,
    )


def report(
    *, scope: str, subject_id: uuid.UUID, name: str, share: int, record_type: str, what: str,
    population: list[HoldoutAssignment], outcomes: dict[uuid.UUID, RecordOutcome],
) -> HoldoutEffect:
    """The report over the assigned records and what followed each (a record missing from
    ``outcomes`` had no deal outcome); ``what`` names the subject: "the sequence “Intro”"."""
    enrolled_summary = GroupSummary.of([outcomes.get(a.record_id, NOTHING) for a in population if not a.held_out])
    held_summary = GroupSummary.of([outcomes.get(a.record_id, NOTHING) for a in population if a.held_out])
    rows = compare(enrolled_summary, held_summary)
    return HoldoutEffect(
        scope=scope, subject_id=subject_id, name=name, share=share, record_type=record_type,
        enrolled=_group(enrolled_summary), held_out=_group(held_summary), metrics=rows,
        verdict=verdict(enrolled_summary, held_summary, rows, share=share, record_type=record_type, what=what),
    )


def _group(summary: GroupSummary) -> GroupOut:
    return GroupOut(records=summary.records, progressed=summary.progressed, won=summary.won,
                    revenue=round(summary.revenue.mean * summary.revenue.n, 2))
