"""What a column can hold, checked before a service's own rules: a value that the database
would refuse (or store wrongly) is a field error, never a database error.

- no NUL characters in text (PostgreSQL refuses them);
- integers within the column's range (32-bit ``Integer``, 64-bit ``BigInteger``);
- money and other decimals rounded to the column's scale, within its precision;
- times: one without a zone is taken as UTC; one that cannot be expressed in UTC
  (``9999-12-31T23:59-05:00``) is out of range;
- text no longer than the column (checked after normalising, see ``check_lengths``)."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, DecimalException, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, String

from pipewise.db.base import UTCDateTime
from pipewise.errors import ErrorCollector

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
NUL_MESSAGE = "must not contain NUL characters"


def utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive time is taken as UTC); ValueError when out of range."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range (a time before year 10000 in UTC)") from None


def money(value: Any, *, scale: int = 2, precision: int = 18) -> Decimal:
    """``value`` rounded to ``scale`` places; ValueError if it has more than
    ``precision - scale`` digits before the point (or is no finite number)."""
    try:
        number = Decimal(str(value))
        if not number.is_finite() or number.adjusted() >= precision - scale:
            raise InvalidOperation
        return number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
    except (DecimalException, ValueError):
        raise ValueError(f"must be a number with at most {precision - scale} digits before the point") from None


def _bounded(column: Any, value: Any) -> Any:
    """The value to store, or ValueError with the field message."""
    sa_type = column.type
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    if isinstance(sa_type, Integer) and isinstance(value, int) and not isinstance(value, bool):
        low, high = INT64 if isinstance(sa_type, BigInteger) else INT32
        if not low <= value <= high:
            raise ValueError(f"must be between {low:,} and {high:,}")
    elif isinstance(sa_type, Numeric) and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        if sa_type.scale is not None and sa_type.precision is not None:
            return money(value, scale=sa_type.scale, precision=sa_type.precision)
    elif isinstance(sa_type, UTCDateTime) and isinstance(value, datetime):
        return utc(value)
    return value


def screen(model: Any, data: dict[str, Any], *, creating: bool, errors: ErrorCollector) -> None:
    """Check ``data`` against ``model``'s columns in place: bad values become field errors
    and leave ``data`` (so later rules need not guard against them)."""
    columns = model.__table__.columns
    for key in [k for k in data if k in columns]:
        column, value = columns[key], data[key]
        if value is None:
            if column.nullable:
                continue
            del data[key]
            if not (creating and column.default is not None):  # null on create means "the default"
                errors.add(key, "cannot be empty")
            continue
        try:
            data[key] = _bounded(column, value)
        except ValueError as exc:
            del data[key]
            errors.add(key, str(exc))


def check_lengths(model: Any, data: dict[str, Any], errors: ErrorCollector) -> None:
    columns = model.__table__.columns
    for key, value in data.items():
        column = columns.get(key)
        if column is None or not isinstance(value, str) or not isinstance(column.type, String):
            continue
        if column.type.length is not None and len(value) > column.type.length:
            errors.add(key, f"is longer than {column.type.length} characters")
