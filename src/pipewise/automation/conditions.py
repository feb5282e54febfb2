"""Enrollment conditions, branch conditions and goals: the CRM filter language
(``crm/filters.py``), evaluated on one record, and explained with the values seen.

Besides the to-one relations every list filter knows (``account.industry``,
``owner.team_id``), conditions may look at a record's related lists: ``open_deals``,
``deals`` and ``contacts`` of an account, the ``deals`` of a contact and the ``contacts``
of a deal. ``{"field": "open_deals", "op": "is_not_empty"}`` asks whether one exists;
``{"field": "open_deals.amount", "op": "gte", "value": 5000}`` whether one matches."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from pipewise.crm.models import Contact
from pipewise.deals.models import Deal, DealContact, Stage
from pipewise.records.filters import NO_VALUE_OPS, FilterCompiler, FilterError
from pipewise.records.registry import RecordSpec, spec_for

# Day counts of within_last_days / older_than_days: a longer span is refused when a
# workflow is saved, and read as this bound by the engine (a date cannot go further back).
MAX_DAYS = 36_500
DAY_OPS = ("within_last_days", "older_than_days")

# (target record type, link between the outer record's model and the target's rows)
RelatedList = tuple[str, Callable[[Any], ColumnElement[bool]]]


def _open_deal() -> ColumnElement[bool]:
    return Deal.stage_id.in_(select(Stage.id).where(Stage.kind == "open"))


RELATED_LISTS: dict[str, dict[str, RelatedList]] = {
    "account": {
        "deals": ("deal", lambda outer: Deal.account_id == outer.id),
        "open_deals": ("deal", lambda outer: (Deal.account_id == outer.id) & _open_deal()),
        "contacts": ("contact", lambda outer: Contact.account_id == outer.id),
    },
    "contact": {
        "deals": ("deal", lambda outer: Deal.id.in_(select(DealContact.deal_id).where(DealContact.contact_id == outer.id))),
        "open_deals": (
            "deal",
            lambda outer: Deal.id.in_(select(DealContact.deal_id).where(DealContact.contact_id == outer.id))
            & _open_deal(),
        ),
    },
    "deal": {
        "contacts": (
            "contact",
            lambda outer: Contact.id.in_(select(DealContact.contact_id).where(DealContact.deal_id == outer.id)),
        ),
    },
}


def day_count_problem(value: Any) -> str | None:
    try:
        days = int(value)
    except (TypeError, ValueError, OverflowError):
        return "takes a whole number of days"
    if not 0 <= days <= MAX_DAYS:
        return f"takes a whole number of days from 0 to {MAX_DAYS:,}"
    return None


def day_count_problems(tree: Any, where: str) -> list[tuple[str, str]]:
    """(field, message) for each day count out of range in a condition tree."""
    found: list[tuple[str, str]] = []
    stack = [(tree, where)]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, Mapping):
            continue
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                stack.extend((item, f"{path}.{key}[{i}]") for i, item in enumerate(node[key]))
        if "not" in node:
            stack.append((node["not"], f"{path}.not"))
        if node.get("op") in DAY_OPS and (problem := day_count_problem(node.get("value"))):
            found.append((f"{path}.value", problem))
    return found


class ConditionCompiler(FilterCompiler):
    def condition(self, spec: RecordSpec, field_name: str, op: str, value: Any) -> ColumnElement[bool]:
        if op in DAY_OPS and day_count_problem(value) is not None:
            try:
                value = min(max(int(value), 0), MAX_DAYS)
            except (TypeError, ValueError, OverflowError):
                pass  # not a number: the filter language says so
        head, _, rest = field_name.partition(".")
        related = RELATED_LISTS.get(spec.name, {}).get(head)
        if related is None:
            return super().condition(spec, field_name, op, value)
        target_type, link = related
        target = spec_for(target_type)
        if not rest:
            if op not in NO_VALUE_OPS:
                raise FilterError(field_name, "a related list takes is_empty or is_not_empty, or name one of its fields")
            found = exists(select(target.model.id).where(link(spec.model)))
            return found if op == "is_not_empty" else ~found
        inner = self.condition(target, rest, op, value)
        return exists(select(target.model.id).where(link(spec.model), inner))


def check(session: Session, record_type: str, tree: Any) -> None:
    """Raise FilterError if ``tree`` is not a valid condition for ``record_type``."""
    ConditionCompiler(session, spec_for(record_type)).compile(tree)


def matches(session: Session, record_type: str, record_id: uuid.UUID, tree: Any) -> bool:
    spec = spec_for(record_type)
    clause = ConditionCompiler(session, spec).compile(tree)
    return session.scalar(select(spec.model.id).where(spec.model.id == record_id, clause)) is not None


# -- explanations --------------------------------------------------------------------

PHRASES: dict[str, tuple[str, str]] = {  # op -> (when it holds, when it does not)
    "eq": ("is", "is not"),
    "ne": ("is not", "is"),
    "gt": ("is above", "is not above"),
    "gte": ("is at least", "is below"),
    "lt": ("is below", "is not below"),
    "lte": ("is at most", "is above"),
    "in": ("is one of", "is not one of"),
    "not_in": ("is none of", "is one of"),
    "contains": ("contains", "does not contain"),
    "starts_with": ("starts with", "does not start with"),
    "is_empty": ("is empty", "is not empty"),
    "is_not_empty": ("is not empty", "is empty"),
    "before": ("is before", "is not before"),
    "after": ("is after", "is not after"),
    "within_last_days": ("is within the last", "is not within the last"),
    "older_than_days": ("is more than", "is not more than"),
}


def show_value(value: Any) -> str:
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        if number == number.to_integral_value():
            return f"{int(number):,}"
        return f"{number:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(show_value(v) for v in value) if value else "none"
    return str(value)


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


@dataclass
class Verdict:
    ok: bool
    text: str
    values: dict[str, Any] = field(default_factory=dict)


class Explainer:
    """Evaluates a condition tree on one record, leaf by leaf, keeping what it saw."""

    def __init__(self, session: Session, record_type: str, record_id: uuid.UUID) -> None:
        self.session = session
        self.spec = spec_for(record_type)
        self.record_id = record_id
        self.record = session.get(self.spec.model, record_id)

    def explain(self, node: Any) -> Verdict:
        if not isinstance(node, Mapping):
            raise FilterError("filter", "must be an object")
        if "all" in node:
            parts = [self.explain(item) for item in node["all"]]
            failing = [p for p in parts if not p.ok]
            shown = failing or parts
            return Verdict(not failing, "; ".join(p.text for p in shown), _merge(parts))
        if "any" in node:
            parts = [self.explain(item) for item in node["any"]]
            holding = [p for p in parts if p.ok]
            if holding:
                return Verdict(True, holding[0].text, _merge(parts))
            return Verdict(False, "none held: " + "; ".join(p.text for p in parts), _merge(parts))
        if "not" in node:
            inner = self.explain(node["not"])
            return Verdict(not inner.ok, f"not ({inner.text})", inner.values)
        return self._leaf(str(node["field"]), str(node.get("op", "eq")), node.get("value"))

    def holds(self, field_name: str, op: str, expected: Any) -> bool:
        return matches(self.session, self.spec.name, self.record_id, {"field": field_name, "op": op, "value": expected})

    def _leaf(self, field_name: str, op: str, expected: Any) -> Verdict:
        ok = self.holds(field_name, op, expected)
        seen = self.value_of(field_name)
        holds, fails = PHRASES.get(op, (op, f"not {op}"))
        phrase = holds if ok else fails
        subject = f"{self.spec.name}.{field_name} {show_value(seen)}"
        if op in NO_VALUE_OPS:
            text = f"{self.spec.name}.{field_name} {phrase}" + ("" if op == "is_empty" and ok else f" ({show_value(seen)})")
            if op == "is_not_empty" and ok:
                text = f"{self.spec.name}.{field_name} {show_value(seen)} {phrase}"
        elif op in ("within_last_days", "older_than_days"):
            text = f"{subject} {phrase} {expected} days" + ("" if op == "within_last_days" else " ago")
        else:
            text = f"{subject} {phrase} {show_value(_number_or_text(expected))}"
        return Verdict(ok, text, {f"{self.spec.name}.{field_name}": _jsonable(seen)})

    def value_of(self, field_name: str) -> Any:
        """The record's current value at ``field_name`` (following relations)."""
        return _read(self.session, self.spec, self.record, field_name)


def _read(session: Session, spec: RecordSpec, record: Any, path: str) -> Any:
    if record is None:
        return None
    head, _, rest = path.partition(".")
    if head == "custom" and rest:
        return (record.custom or {}).get(rest)
    if rest and head in spec.relations:
        fk_column, target = spec.relations[head]
        target_spec = spec_for(target)
        fk = getattr(record, fk_column)
        return _read(session, target_spec, session.get(target_spec.model, fk) if fk else None, rest)
    related = RELATED_LISTS.get(spec.name, {}).get(head)
    if related is not None:
        target_type, link = related
        target_spec = spec_for(target_type)
        outer = type("Outer", (), {"id": record.id})
        rows = session.scalars(select(target_spec.model).where(link(outer)).limit(5)).all()
        if not rest:
            return [getattr(r, "name", None) or str(r.id) for r in rows]
        return [_read(session, target_spec, r, rest) for r in rows]
    return getattr(record, head, None)


def _merge(parts: list[Verdict]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part.values)
    return merged


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def explain(session: Session, record_type: str, record_id: uuid.UUID, tree: Any) -> Verdict:
    return Explainer(session, record_type, record_id).explain(tree)
