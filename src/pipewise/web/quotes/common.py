"""What the quote pages share: amounts shown exactly, line rows read from a form, and the
product choices of a line."""

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.auth.visibility import Actor
from pipewise.errors import FieldError
from pipewise.quotes import money
from pipewise.quotes.catalogue import product_service
from pipewise.records.repository import ListQuery
from pipewise.web.common import templates
from pipewise.web.forms import parse_uuid

MAX_ROWS = 200
STATUS_BADGES = {"draft": "new", "pending_approval": "working", "approved": "customer", "rejected": "disqualified",
                 "sent": "mql", "accepted": "customer", "declined": "disqualified", "expired": "withdrawn",
                 "superseded": "withdrawn", "pending": "working", "withdrawn": "withdrawn"}


def amount(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount to its currency's minor unit, never rounded again for display."""
    if value is None:
        return "—"
    exact = Decimal(value).quantize(money.minor_unit(currency))
    return f"{exact:,f} {currency}"


def percent(value: Decimal | None) -> str:
    if not value:
        return "0 %"
    return f"{Decimal(value).normalize():f} %"


def number(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value).normalize():f}"


templates.env.filters.setdefault("amount", amount)
templates.env.filters.setdefault("percent", percent)
templates.env.filters.setdefault("number", number)
templates.env.globals.setdefault("quote_badge", lambda status: STATUS_BADGES.get(status, "new"))


def products(session: Session, actor: Actor) -> list[Any]:
    query = ListQuery(filter={"field": "active", "op": "eq", "value": True}, sort="name", limit=500)
    return product_service.list(session, actor=actor, query=query).items


def _decimal(text: str, name: str, errors: list[FieldError]) -> Decimal | None:
    text = text.strip().replace(",", ".") if text else ""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors.append(FieldError(name, "is not a number"))
        return None
    if not value.is_finite():
        errors.append(FieldError(name, "is not a number"))
        return None
    return value


def read_line(form: FormData, prefix: str, errors: list[FieldError], label: str) -> dict[str, Any] | None:
    """One line typed into a form (fields ``<prefix>name``, ``<prefix>quantity`` …); None
    when the row is empty or ticked for removal."""
    def text(key: str) -> str:
        value = form.get(prefix + key)
        return value.strip() if isinstance(value, str) else ""

    product_id = parse_uuid(text("product_id"))
    if text("remove") or (not text("name") and product_id is None):
        return None
    line: dict[str, Any] = {"product_id": product_id, "name": text("name") or None}
    for key, default in (("quantity", Decimal(1)), ("unit_price", None), ("discount_percent", Decimal(0)),
                         ("tax_rate", None)):
        value = _decimal(text(key), f"{label} {key.replace('_', ' ')}", errors)
        line[key] = default if value is None else value
    line["optional"] = bool(text("optional"))
    line["selected"] = bool(text("selected")) or not line["optional"]
    return line


def read_lines(form: FormData) -> tuple[list[dict[str, Any]], list[FieldError]]:
    errors: list[FieldError] = []
    try:
        rows = min(int(str(form.get("rows") or "0")), MAX_ROWS)
    except ValueError:
        rows = 0
    lines = []
    for index in range(rows):
        line = read_line(form, f"l{index}-", errors, f"Line {index + 1}")
        if line is not None:
            lines.append({**line, "row": index})
    return lines, errors


def line_messages(errors: list[FieldError]) -> list[str]:
    """``lines.2.quantity`` → ``Line 3 quantity: …`` for a banner above the lines."""
    messages = []
    for error in errors:
        parts = error.field.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            messages.append(f"Line {int(parts[1]) + 1} {parts[2].replace('_', ' ')}: {error.message}")
        else:
            messages.append(f"{error.field.replace('_', ' ')}: {error.message}" if error.field else error.message)
    return messages
