"""A condition of the filter language as form rows: "all" or "any" of (field, operator,
value). The rows give back the filter tree the services store and check; a tree deeper
than one level of rows is shown as it is and kept unless the person replaces it."""

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from pipewise.records.filters import NO_VALUE_OPS, OPERATORS

# The lead fields a scoring or routing rule usually tests.
LEAD_FIELDS = (
    ("title", "Job title"), ("company", "Company"), ("company_size", "Company size"), ("industry", "Industry"),
    ("country", "Country (2 letters)"), ("region", "State / region"), ("source", "Source"), ("email", "E-mail"),
    ("domain", "Domain"), ("phone", "Phone"), ("status", "Status"), ("account_id", "Matched account"),
    ("consent_state", "Consent"),
)
LIST_OPS = frozenset({"in", "not_in"})
MATCHES = (("all", "all of these"), ("any", "any of these"))
BLANK_ROWS = 1


@dataclass
class ConditionRow:
    field: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class Condition:
    match: str = "all"
    rows: list[ConditionRow] = field(default_factory=list)
    # A tree the rows cannot show (nested groups, "not"), as JSON; kept while no row is filled.
    kept: str = ""

    def tree(self) -> dict[str, Any]:
        if self.kept and not any(r.field for r in self.rows):
            return json.loads(self.kept)
        parts = [_leaf(r) for r in self.rows if r.field]
        if not parts:
            return {"all": []}  # every lead ("any" of nothing would be none)
        if len(parts) == 1:
            return parts[0]
        return {self.match: parts}


def _leaf(row: ConditionRow) -> dict[str, Any]:
    if row.op in NO_VALUE_OPS:
        return {"field": row.field, "op": row.op}
    if row.op in LIST_OPS:
        return {"field": row.field, "op": row.op, "value": [v.strip() for v in row.value.split(",") if v.strip()]}
    return {"field": row.field, "op": row.op, "value": row.value}


def _row(leaf: Any) -> ConditionRow | None:
    if not isinstance(leaf, dict) or "field" not in leaf:
        return None
    value = leaf.get("value", "")
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))
    return ConditionRow(str(leaf["field"]), str(leaf.get("op", "eq")), text)


def from_tree(tree: Any) -> Condition:
    """Rows for a stored tree: one condition, or one all/any group of conditions."""
    if not tree or tree in ({"all": []}, {"any": []}):
        return _padded(Condition())
    single = _row(tree)
    if single is not None:
        return _padded(Condition("all", [single]))
    for match in ("all", "any"):
        if isinstance(tree, dict) and set(tree) == {match} and isinstance(tree[match], list):
            rows = [_row(leaf) for leaf in tree[match]]
            if all(rows):
                return _padded(Condition(match, [r for r in rows if r]))
    return _padded(Condition(kept=json.dumps(tree)))


def _padded(condition: Condition) -> Condition:
    condition.rows += [ConditionRow() for _ in range(BLANK_ROWS)]
    return condition


def from_form(form: FormData, prefix: str) -> Condition:
    """The rows posted as ``<prefix>-match``, ``<prefix>-<i>-field|op|value`` (and a kept tree)."""
    rows = []
    i = 0
    while f"{prefix}-{i}-field" in form:
        rows.append(ConditionRow(*(str(form.get(f"{prefix}-{i}-{part}") or "").strip() for part in ("field", "op", "value"))))
        i += 1
    match = str(form.get(f"{prefix}-match") or "all")
    kept = str(form.get(f"{prefix}-kept") or "")
    try:
        json.loads(kept or "null")
    except ValueError:
        kept = ""
    return Condition(match if match in ("all", "any") else "all", rows, kept)


def operators() -> list[tuple[str, str]]:
    return list(OPERATORS.items())
