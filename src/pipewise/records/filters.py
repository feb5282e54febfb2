"""One filter language for list views, saved views and automation conditions.

A filter is JSON: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or a condition
``{"field": "amount", "op": "gte", "value": 5000}``. Fields may be columns, custom fields
(``custom.tier``) or fields of related records (``account.industry``, ``owner.team_id``).
Filters compile to SQL, so a list page and an enrollment check mean exactly the same."""

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    and_,
    false,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from pipewise.db.base import UTCDateTime, utcnow
from pipewise.errors import FieldError, ValidationFailed
from pipewise.records.bounds import INT64, NUL_MESSAGE, utc
from pipewise.records.models import CustomFieldDefinition
from pipewise.records.registry import RecordSpec, spec_for

OPERATORS = {
    "eq": "equals",
    "ne": "does not equal",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "before": "before",
    "after": "after",
    "within_last_days": "within the last N days",
    "older_than_days": "more than N days ago",
}
NO_VALUE_OPS = frozenset({"is_empty", "is_not_empty"})
MAX_DEPTH = 32
_RELATIVE = re.compile(r"^(?P<sign>[+-])(?P<n>\d+)(?P<unit>[dhw])$")


class FilterError(ValidationFailed):
    def __init__(self, field_name: str, message: str) -> None:
        location = f"filter.{field_name}" if field_name else "filter"
        super().__init__(f"{location}: {message}", errors=[FieldError(location, message)])


def _relative(value: str, now: datetime) -> datetime | None:
    if value in ("now", "today"):
        return now if value == "now" else datetime.combine(now.date(), time(), UTC)
    match = _RELATIVE.match(value)
    if not match:
        return None
    n = int(match["n"]) * (1 if match["sign"] == "+" else -1)
    unit = {"d": timedelta(days=1), "h": timedelta(hours=1), "w": timedelta(weeks=1)}[match["unit"]]
    return now + n * unit


def _text(value: Any, field_name: str) -> str:
    text = str(value)
    if "\x00" in text:
        raise FilterError(field_name, NUL_MESSAGE)
    return text


def coerce(sa_type: Any, value: Any, field_name: str) -> Any:
    """Turn a filter value (often a query-string) into the column's Python type."""
    if value is None:
        return None
    try:
        if isinstance(sa_type, Uuid):
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        if isinstance(sa_type, Boolean):
            if isinstance(value, bool):
                return value
            lowered = str(value).lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "yes")
        if isinstance(sa_type, Integer):
            if isinstance(value, bool):
                raise ValueError
            number = int(value)
            if not INT64[0] <= number <= INT64[1]:
                raise FilterError(field_name, f"{value!r} is out of range")
            return number
        if isinstance(sa_type, Numeric) and not isinstance(sa_type, Float):
            return Decimal(str(value))
        if isinstance(sa_type, Float):
            return float(value)
        if isinstance(sa_type, UTCDateTime):
            if isinstance(value, datetime):
                return utc(value)
            rel = _relative(str(value), utcnow())
            return rel if rel is not None else utc(datetime.fromisoformat(str(value)))
        if isinstance(sa_type, Date):
            if isinstance(value, date):
                return value
            rel = _relative(str(value), utcnow())
            return rel.date() if rel is not None else date.fromisoformat(str(value))
        if isinstance(sa_type, (String, Text)):
            return _text(value, field_name)
    except (ValueError, TypeError, ArithmeticError):
        raise FilterError(field_name, f"{value!r} is not a valid {type(sa_type).__name__.lower()}") from None
    return value


class FilterCompiler:
    """Compiles filter trees for one record type. Custom field types are read once."""

    def __init__(self, session: Session | None, spec: RecordSpec) -> None:
        self.session = session
        self.spec = spec
        self._custom_types: dict[str, dict[str, str]] = {}

    def custom_type(self, record_type: str, key: str) -> str | None:
        if record_type not in self._custom_types:
            rows = (
                self.session.execute(
                    select(CustomFieldDefinition.key, CustomFieldDefinition.field_type).where(
                        CustomFieldDefinition.record_type == record_type
                    )
                ).all()
                if self.session is not None
                else []
            )
            self._custom_types[record_type] = {k: t for k, t in rows}
        return self._custom_types[record_type].get(key)

    def compile(self, node: Any, path: str = "", depth: int = 0) -> ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise FilterError("", f"is nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, Mapping):
            raise FilterError(path.rstrip("."), "must be an object with all / any / not or field / op / value")
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            items = node[key]
            if not isinstance(items, list):
                raise FilterError(path + key, f"{key} takes a list")
            parts = [self.compile(item, f"{path}{key}[{i}].", depth + 1) for i, item in enumerate(items)]
            if not parts:
                return true() if key == "all" else false()
            return and_(*parts) if key == "all" else or_(*parts)
        if "not" in node:
            return not_(self.compile(node["not"], f"{path}not.", depth + 1))
        if "field" not in node:
            raise FilterError(path.rstrip("."), "a condition needs a field")
        return self.condition(self.spec, str(node["field"]), str(node.get("op", "eq")), node.get("value"))

    def condition(self, spec: RecordSpec, field_name: str, op: str, value: Any) -> ColumnElement[bool]:
        model = spec.model
        head, _, rest = field_name.partition(".")
        if rest and head in spec.relations:
            fk_column, target = spec.relations[head]
            target_spec = spec_for(target)
            inner = self.condition(target_spec, rest, op, value)
            return getattr(model, fk_column).in_(select(target_spec.model.id).where(inner).scalar_subquery())
        if op not in OPERATORS:
            raise FilterError(field_name, f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
        if head == "custom" and rest and spec.has_custom_fields:
            field_type = self.custom_type(spec.name, rest)
            if field_type is None:
                raise FilterError(field_name, f"{spec.name} has no custom field {rest!r}")
            element = model.custom[rest]
            column = element.as_float() if field_type == "number" else element.as_string()
            sa_type: Any = Float() if field_type == "number" else (Date() if field_type == "date" else String())
        else:
            column = model.__table__.columns.get(field_name)
            if column is None or field_name in spec.hidden_fields or rest:
                raise FilterError(field_name, f"{spec.name} has no field {field_name!r}")
            column = getattr(model, column.key)
            sa_type = column.type
        # Custom dates are stored as ISO text, which sorts like the dates it holds.
        stored_as_text = head == "custom" and isinstance(sa_type, Date)
        return _apply(column, sa_type, op, value, field_name, stored_as_text=stored_as_text)


def _apply(
    column: Any, sa_type: Any, op: str, value: Any, field_name: str, *, stored_as_text: bool = False
) -> ColumnElement[bool]:
    def typed(raw: Any) -> Any:
        result = coerce(sa_type, raw, field_name)
        return result.isoformat() if stored_as_text and isinstance(result, date) else result

    if op in NO_VALUE_OPS:
        empty = column.is_(None)
        if isinstance(sa_type, (String, Text)):
            empty = or_(empty, column == "")
        return empty if op == "is_empty" else not_(empty)
    if op in ("within_last_days", "older_than_days"):
        try:
            days = int(value)
        except (TypeError, ValueError):
            raise FilterError(field_name, "takes a whole number of days") from None
        cutoff: Any = utcnow() - timedelta(days=days)
        if isinstance(sa_type, Date):
            cutoff = cutoff.date().isoformat() if stored_as_text else cutoff.date()
        return column >= cutoff if op == "within_last_days" else column < cutoff
    if op in ("in", "not_in"):
        items = value if isinstance(value, list) else [v for v in str(value).split(",") if v != ""]
        coerced = [typed(v) for v in items]
        return column.in_(coerced) if op == "in" else column.not_in(coerced)
    if op in ("contains", "starts_with"):
        text = _text(value, field_name).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%" if op == "contains" else f"{text}%"
        return column.ilike(pattern, escape="\\")
    coerced = typed(value)
    if coerced is None:
        return column.is_(None) if op == "eq" else column.is_not(None)
    return {
        "eq": lambda: column == coerced,
        "ne": lambda: or_(column != coerced, column.is_(None)),
        "gt": lambda: column > coerced,
        "after": lambda: column > coerced,
        "gte": lambda: column >= coerced,
        "lt": lambda: column < coerced,
        "before": lambda: column < coerced,
        "lte": lambda: column <= coerced,
    }[op]()


RESERVED_PARAMS = frozenset({"q", "sort", "cursor", "limit", "filter", "view"})


def conditions_from_params(params: Mapping[str, str]) -> list[dict[str, Any]]:
    """``?industry=Software&amount__gte=1000&custom.tier__in=a,b`` → a list of conditions."""
    conditions = []
    for key, value in params.items():
        if key in RESERVED_PARAMS:
            continue
        field_name, _, op = key.partition("__")
        conditions.append({"field": field_name, "op": op or "eq", "value": value})
    return conditions


def record_matches(session: Session, spec: RecordSpec, record_id: uuid.UUID, node: Any) -> bool:
    """Evaluate a filter against one stored record (the engine's enrollment check)."""
    clause = FilterCompiler(session, spec).compile(node)
    found = session.scalar(select(spec.model.id).where(spec.model.id == record_id, clause))
    return found is not None
