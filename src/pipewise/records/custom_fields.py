"""Custom fields: definitions per record type, and validation of the values stored in
each record's ``custom`` JSON (numbers as numbers, dates as ISO strings)."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, DecimalException
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.db.process_cache import ProcessCache
from pipewise.db.session import cached_lookup
from pipewise.errors import ErrorCollector
from pipewise.records.bounds import NUL_MESSAGE
from pipewise.records.models import CustomFieldDefinition
from pipewise.records.registry import customizable

FIELD_TYPES = ("text", "number", "date", "choice")
# Numbers are kept in JSON and compared as floats: beyond this they lose digits.
MAX_DIGITS = 15
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class FieldRule:
    """What validation needs of a definition, safe to share between threads."""

    key: str
    field_type: str
    choices: tuple[Any, ...]
    required: bool


_rules: ProcessCache[dict[str, FieldRule]] = ProcessCache("custom field rules", models=(CustomFieldDefinition,))


def definitions(session: Session, record_type: str) -> dict[str, CustomFieldDefinition]:
    def load() -> dict[str, CustomFieldDefinition]:
        rows = session.scalars(select(CustomFieldDefinition).where(CustomFieldDefinition.record_type == record_type))
        return {d.key: d for d in rows}

    return dict(cached_lookup(session, CustomFieldDefinition, record_type, load))


def rules(session: Session, record_type: str) -> dict[str, FieldRule]:
    """The validation rules of ``record_type``'s custom fields, kept by the process
    (``db/process_cache.py``: a definition added elsewhere applies within seconds)."""

    def load() -> dict[str, FieldRule]:
        rows = session.execute(
            select(CustomFieldDefinition.key, CustomFieldDefinition.field_type, CustomFieldDefinition.choices,
                   CustomFieldDefinition.required).where(CustomFieldDefinition.record_type == record_type)
        )
        return {key: FieldRule(key, kind, tuple(choices or ()), bool(required)) for key, kind, choices, required in rows}

    return _rules.get(session, record_type, load)


def _coerce(definition: FieldRule, value: Any) -> Any:
    if definition.field_type == "number":
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value))
        except DecimalException:
            raise ValueError("must be a number") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        if number.adjusted() >= MAX_DIGITS:  # no arithmetic yet: 1e1000000 would overflow it
            raise ValueError(f"must have at most {MAX_DIGITS} digits before the point")
        return int(number) if number == number.to_integral_value() else float(number)
    if definition.field_type == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)") from None
    if definition.field_type == "choice":
        if value not in definition.choices:
            raise ValueError(f"must be one of {', '.join(map(str, definition.choices))}")
        return value
    if not isinstance(value, (str, int, float)):
        raise ValueError("must be text")
    text = str(value)
    if "\x00" in text:
        raise ValueError(NUL_MESSAGE)
    if len(text) > 2000:
        raise ValueError("is longer than 2000 characters")
    return text


def validate(
    session: Session,
    record_type: str,
    values: dict[str, Any],
    *,
    existing: dict[str, Any] | None = None,
    errors: ErrorCollector,
) -> dict[str, Any]:
    """Merge ``values`` into ``existing`` (``None`` clears a field); return the new dict."""
    defs = rules(session, record_type)
    merged = dict(existing or {})
    for key, value in values.items():
        definition = defs.get(key)
        if definition is None:
            errors.add(f"custom.{key}", f"{record_type} has no custom field {key!r}")
            continue
        if value is None or value == "":
            merged.pop(key, None)
            continue
        try:
            merged[key] = _coerce(definition, value)
        except ValueError as exc:
            errors.add(f"custom.{key}", str(exc))
    for key, definition in defs.items():
        if definition.required and merged.get(key) in (None, ""):
            errors.add(f"custom.{key}", "is required")
    return merged


def validate_definition(data: dict[str, Any], errors: ErrorCollector) -> None:
    allowed = customizable()
    if data.get("record_type") not in allowed:
        errors.add("record_type", f"must be one of {', '.join(allowed)}")
    if "key" in data and not KEY_RE.match(str(data["key"])):
        errors.add("key", "must be lower-case letters, digits and _ , starting with a letter")
    if "field_type" in data and data["field_type"] not in FIELD_TYPES:
        errors.add("field_type", f"must be one of {', '.join(FIELD_TYPES)}")
    if data.get("field_type") == "choice" and not data.get("choices"):
        errors.add("choices", "a choice field needs at least one choice")
