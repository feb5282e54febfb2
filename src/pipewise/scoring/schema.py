"""Which columns of tabular lead data a model can use, and how each is read: numeric
where nearly every filled-in value is a number, categorical otherwise; identifiers and
constants are left out with the reason. No scikit-learn or numpy here: a request checks
that a training would have something to learn from without loading them."""

import math
from dataclasses import dataclass, field
from typing import Any

MISSING = "(not given)"
MISSING_TOKENS = frozenset({"", "select", "na", "n/a", "null", "none", "nan", "-", "--", "unknown", "?"})


@dataclass
class Schema:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


def number(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "")
    if text.lower() in MISSING_TOKENS:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def category(value: Any) -> str:
    if value is None:
        return MISSING
    text = str(value).strip()
    return MISSING if text.lower() in MISSING_TOKENS else text


def infer_schema(rows: list[dict[str, Any]], columns: list[str]) -> Schema:
    """Numeric where nearly every filled-in value is a number; ids (a different value in
    every row) and constants are left out, with the reason."""
    schema = Schema()
    n = len(rows)
    for column in columns:
        values = [r.get(column) for r in rows]
        filled = [v for v in values if category(v) != MISSING]
        if not filled:
            schema.dropped[column] = "always empty"
            continue
        numbers = sum(1 for v in filled if not math.isnan(number(v)))
        distinct = len(set(map(str, filled)))
        if distinct == 1:
            schema.dropped[column] = "the same in every row"
        elif distinct == n and n > 50 and (numbers < len(filled) or _looks_like_id(filled)):
            schema.dropped[column] = "an identifier (a different value in every row)"
        elif numbers >= 0.95 * len(filled):
            schema.numeric.append(column)
        else:
            schema.categorical.append(column)
    return schema


def _looks_like_id(values: list[Any]) -> bool:
    numbers = [number(v) for v in values]
    return all(not math.isnan(x) and float(x).is_integer() for x in numbers)
