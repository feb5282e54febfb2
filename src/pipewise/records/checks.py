"""Field checks that every record service shares."""

import zoneinfo
from typing import Any

from pipewise.errors import ErrorCollector
from pipewise.records import normalize


def normalize_field(data: dict[str, Any], key: str, fn: Any, errors: ErrorCollector) -> None:
    """Apply a normaliser to ``data[key]`` when present; an empty value becomes None."""
    value = data.get(key)
    if value is None:
        return
    if isinstance(value, str) and not value.strip():
        data[key] = None
        return
    try:
        data[key] = fn(value)
    except ValueError as exc:
        errors.add(key, str(exc))


def check_choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], errors: ErrorCollector) -> None:
    if key in data and data[key] is not None and data[key] not in allowed:
        errors.add(key, f"must be one of {', '.join(allowed)}")


def check_required_text(data: dict[str, Any], key: str, record: Any, errors: ErrorCollector) -> None:
    if key in data:
        value = data[key]
        if value is None or not str(value).strip():
            errors.add(key, "is required")
        else:
            data[key] = normalize.tidy_text(str(value))
    elif record is None:
        errors.add(key, "is required")


def check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
    return value


def tidy_names(data: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if isinstance(data.get(key), str):
            data[key] = normalize.tidy_text(data[key]) or None
