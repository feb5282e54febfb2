"""The shape every report answers with: tables of rows under named columns, a chart, and
a few headline figures. The API returns it as JSON, the web page draws it, the CSV
export writes one of its tables."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | count | money | percent | days | hours | minutes | number


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Chart:
    kind: str  # bar | line
    labels: list[str]
    datasets: list[dict[str, Any]]  # {"label": str, "data": [numbers]}
    stacked: bool = False


@dataclass
class Report:
    slug: str
    title: str
    tables: list[Table]
    chart: Chart | None = None
    headline: list[dict[str, Any]] = field(default_factory=list)  # {"label", "value", "kind"}
    note: str | None = None  # shown above the tables (e.g. that percentiles are approximate)

    def table(self, key: str | None = None) -> Table:
        if key is None:
            return self.tables[0]
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


APPROXIMATE = ("Percentiles over more than 25,000 lengths come from histograms with 5 % wide buckets: "
               "less than 5 % off the exact value, usually well under 1 %.")


def plain(value: Any) -> Any:
    """A value as JSON carries it: money as a string of cents, floats rounded."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "report": report.slug,
        "title": report.title,
        "note": report.note,
        "headline": [{**h, "value": plain(h["value"])} for h in report.headline],
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                "rows": [{c.key: plain(row.get(c.key)) for c in t.columns} for row in t.rows],
            }
            for t in report.tables
        ],
        "chart": None if report.chart is None else {
            "kind": report.chart.kind, "labels": report.chart.labels, "stacked": report.chart.stacked,
            "datasets": [{**d, "data": [plain(v) for v in d["data"]]} for d in report.chart.datasets],
        },
    }


# -- statistics the reports share ----------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile by linear interpolation between the closest ranks (as
    ``numpy.quantile`` and PostgreSQL's ``percentile_cont``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(part: float | Decimal, whole: float | Decimal) -> float | None:
    return None if not whole else float(part) / float(whole)


def total(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal("0"))


def days_between(start: Any, end: Any) -> float:
    return (end - start).total_seconds() / 86400
