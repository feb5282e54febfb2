"""Jinja filters that turn stored values into what a person reads: money, local times,
labels. Times are stored in UTC and shown in the logged-in user's time zone."""

import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$"}


def money(amount: Decimal | int | float | None, currency: str = "USD") -> str:
    if amount is None:
        return "—"
    value = Decimal(amount)
    whole = value == value.to_integral_value()
    number = f"{value:,.0f}" if whole else f"{value:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def money_totals(totals: dict[str, Decimal]) -> str:
    """Amounts in several currencies are never added together: '$12,000 · €3,500'."""
    if not totals:
        return money(0)
    return " · ".join(money(amount, currency) for currency, amount in sorted(totals.items()))


def sum_by_currency(deals: Iterable[Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for deal in deals:
        if deal.amount is not None:
            totals[deal.currency] = totals.get(deal.currency, Decimal(0)) + deal.amount
    return totals


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@pass_context
def when(context: Context, value: datetime | date | None, with_time: bool = True) -> str:
    if value is None:
        return "—"
    if not isinstance(value, datetime):
        return f"{value:%b} {value.day}, {value.year}"
    local = value.astimezone(_zone(context.get("tz")))
    text = f"{local:%b} {local.day}, {local.year}"
    return f"{text}, {local:%H:%M}" if with_time else text


def label(name: str | None) -> str:
    """'lifecycle_stage' → 'Lifecycle stage'; 'mql' stays readable as 'MQL'."""
    if not name:
        return "—"
    if name in {"mql", "sql"}:
        return name.upper()
    return name.removeprefix("custom.").removesuffix("_id").replace("_", " ").capitalize()


def initials(name: str | None) -> str:
    parts = [p for p in (name or "").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def choices(records: Iterable[Any], text_attr: str) -> list[tuple[Any, str]]:
    """Records as (id, text) pairs for a <select>."""
    return [(r.id, getattr(r, text_attr)) for r in records]


def labelled(values: Iterable[str]) -> list[tuple[str, str]]:
    return [(v, label(v)) for v in values]


def install(env: Environment) -> None:
    env.filters.update(
        money=money, money_totals=money_totals, when=when, label=label, initials=initials, choices=choices, labelled=labelled
    )
