"""HTML forms over the services: read what was typed, check each value against the API's
own schema, let the service validate the rest, and hand back every error by field so
the form is shown again with the values as typed and a message under each bad field."""

import uuid
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.errors import FieldError, ValidationFailed
from pipewise.records.models import CustomFieldDefinition
from pipewise.records.service import RecordService
from pipewise.web.lookups import PICKER_KINDS

UUID_KINDS = frozenset({"user", "account", "pipeline", "stage", "contact"})
CUSTOM_KINDS = {"text": "text", "number": "number", "date": "date", "choice": "choice"}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    # text | email | tel | number | money | date | datetime | textarea | choice
    # | user | account | pipeline | stage | contact
    kind: str = "text"
    choices: tuple[str, ...] = ()
    # Required fields keep an empty value as "" so the service names the problem.
    required: bool = False
    hint: str = ""
    wide: bool = False
    default: str = ""  # pre-filled on a new record's form
    # Left empty, the field is not sent at all: the service picks (or keeps) the value.
    empty_means_default: bool = False


@dataclass
class FormState:
    """What a form shows: the values (as the person typed them) and the errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    # Errors that belong to no field on the form.
    general: list[str] = field(default_factory=list)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> str:
        return "; ".join(self.errors.get(name, []))

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.general)


def custom_form_fields(definitions: Iterable[CustomFieldDefinition]) -> tuple[FormField, ...]:
    """The record type's custom fields, as form fields named ``custom.<key>``."""
    return tuple(
        FormField(
            f"custom.{d.key}",
            d.label,
            CUSTOM_KINDS.get(d.field_type, "text"),
            tuple(str(c) for c in d.choices),
            required=d.required,
        )
        for d in definitions
    )


def _as_text(value: Any, kind: str, tz: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(zoneinfo.ZoneInfo(tz))
        return local.strftime("%Y-%m-%dT%H:%M") if kind == "datetime" else local.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def state_from_record(fields: Iterable[FormField], record: Any, tz: str = "UTC") -> FormState:
    values = {}
    for f in fields:
        if f.name.startswith("custom."):
            raw = (getattr(record, "custom", None) or {}).get(f.name[7:])
        else:
            raw = getattr(record, f.name, None)
        values[f.name] = _as_text(raw, f.kind, tz)
    return FormState(values=values)


def state_for_new(fields: Iterable[FormField], prefill: Mapping[str, str]) -> FormState:
    return FormState(values={f.name: prefill.get(f.name, f.default) for f in fields})


def typed_values(form: Mapping[str, Any], fields: Iterable[FormField]) -> dict[str, str]:
    values = {}
    for f in fields:
        raw = form.get(f.name)
        values[f.name] = raw.strip() if isinstance(raw, str) else ""
    return values


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "int_parsing": lambda e: "must be a whole number",
    "int_from_float": lambda e: "must be a whole number",
    "decimal_parsing": lambda e: "must be an amount such as 1250.00",
    "decimal_max_places": lambda e: "may have at most 2 decimal places",
    "decimal_max_digits": lambda e: "is too large",
    "date_from_datetime_parsing": lambda e: "must be a date (YYYY-MM-DD)",
    "date_parsing": lambda e: "must be a date (YYYY-MM-DD)",
    "datetime_parsing": lambda e: "must be a date and time",
    "datetime_from_date_parsing": lambda e: "must be a date and time",
    "uuid_parsing": lambda e: "is not one of the choices",
    "literal_error": lambda e: "is not one of the choices",
    "string_too_long": lambda e: f"must be at most {e['ctx']['max_length']} characters",
    "string_too_short": lambda e: "is required",
    "greater_than_equal": lambda e: f"must be at least {e['ctx']['ge']}",
    "less_than_equal": lambda e: f"must be at most {e['ctx']['le']}",
}


def friendly_message(error: dict[str, Any]) -> str:
    make = _MESSAGES.get(error["type"])
    return make(error) if make else str(error.get("msg", "is invalid"))


def _local_datetime(text: str, tz: str) -> datetime | str:
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return text  # the schema reports it
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(UTC)


def parse(
    fields: Iterable[FormField], schema: type[BaseModel], typed: Mapping[str, str], *, tz: str = "UTC"
) -> tuple[dict[str, Any], list[FieldError]]:
    """Turn typed strings into service data, checking each against ``schema``.
    An empty optional field becomes None (it clears the value); custom fields go to the
    service as typed, since it knows their types."""
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in fields:
        text = typed.get(f.name, "")
        if f.name.startswith("custom."):
            custom[f.name[7:]] = text or None
            continue
        value: Any
        if not text and f.empty_means_default:
            continue
        if not text:
            value = "" if f.required and f.kind not in UUID_KINDS else None
        elif f.kind == "money":
            value = text.replace(",", "").replace(" ", "")
        elif f.kind == "datetime":
            value = _local_datetime(text, tz)
        else:
            value = text
        if value is None or value == "":
            data[f.name] = value
            continue
        try:
            checked = schema.model_validate({f.name: value})
        except ValidationError as exc:
            errors.append(FieldError(f.name, friendly_message(exc.errors()[0])))
            continue
        data[f.name] = getattr(checked, f.name)
    if custom:
        data["custom"] = custom
    return data, errors


def merge_errors(first: list[FieldError], more: list[FieldError]) -> list[FieldError]:
    """``first`` plus the errors of ``more`` on fields ``first`` has not complained about."""
    seen = {e.field for e in first}
    return first + [e for e in more if e.field not in seen]


def to_state(typed: dict[str, str], errors: list[FieldError], shown: Iterable[str]) -> FormState:
    state = FormState(values=typed)
    names = set(shown)
    for error in errors:
        if error.field in names:
            # One message per field: the first names the real problem (a custom number
            # typed as text is also reported as missing).
            state.errors.setdefault(error.field, [error.message])
        else:
            state.general.append(f"{error.field.replace('_', ' ')}: {error.message}")
    return state


def service_errors(
    service: RecordService[Any], session: Session, data: dict[str, Any], *, actor: Actor, record: Any
) -> list[FieldError]:
    """The service's verdict on ``data`` without writing anything (its ``prepare`` step)."""
    try:
        service.prepare(session, dict(data), actor=actor, record=record)
    except ValidationFailed as exc:
        return exc.errors
    return []


def drop_unchanged_picks(fields: Iterable[FormField], data: dict[str, Any], record: Any) -> None:
    """A picker posted back with the value it was shown keeps it, unchecked: the record
    may point at something the editor cannot see (an account of another team), and an
    unchanged save must neither refuse nor unlink it."""
    for f in fields:
        if f.kind in PICKER_KINDS and f.name in data and data[f.name] == getattr(record, f.name, None):
            del data[f.name]


def submit(
    session: Session,
    service: RecordService[Any],
    fields: tuple[FormField, ...],
    schema: type[BaseModel],
    form: Mapping[str, Any],
    *,
    actor: Actor,
    record: Any = None,
    tz: str = "UTC",
    extra: dict[str, Any] | None = None,
    then: Callable[[Any], None] | None = None,
) -> tuple[Any, FormState]:
    """Create (or, given ``record``, update) from a posted form. Returns the saved record
    and an empty state, or None and the state to show again. ``then`` runs follow-up
    writes in the same savepoint, so a failure there leaves nothing behind."""
    original = record
    typed = typed_values(form, fields)
    data, errors = parse(fields, schema, typed, tz=tz)
    if original is not None:
        drop_unchanged_picks(fields, data, original)
    data.update(extra or {})
    shown = [f.name for f in fields]
    if errors:
        more = service_errors(service, session, data, actor=actor, record=record)
        return None, to_state(typed, merge_errors(errors, more), shown)
    try:
        with session.begin_nested():
            if original is None:
                record = service.create(session, data=data, actor=actor)
            else:
                service.update(session, original, data=data, actor=actor)
            session.flush()
            if then is not None:
                then(record)
    except ValidationFailed as exc:
        return None, to_state(typed, exc.errors, shown)
    return record, FormState()


def parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@dataclass
class Problems:
    """Messages by form field; those no field on the form shows go to ``general``."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, errors: Iterable[FieldError], shown: Iterable[str]) -> None:
        names = set(shown)
        for error in errors:
            if error.field in names:
                self.by_field.setdefault(error.field, []).append(error.message)
            else:
                self.general.append(f"{error.field}: {error.message}" if error.field else error.message)

    def of(self, name: str) -> str:
        return "; ".join(self.by_field.get(name, []))

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


def schema_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors with dotted field names: ``rules.account_daily_cap``, ``variants[0].subject``."""
    result = []
    for error in exc.errors():
        name = prefix
        for part in error["loc"]:
            name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
        result.append(FieldError(name, friendly_message(error)))
    return result


def checked(schema: type[BaseModel], data: dict[str, Any]) -> tuple[BaseModel | None, list[FieldError]]:
    try:
        return schema.model_validate(data), []
    except ValidationError as exc:
        return None, schema_errors(exc)
