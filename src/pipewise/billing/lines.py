"""Copying priced lines between documents and totalling them with ``quotes.money``."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pipewise.billing.models import DocumentTotals
from pipewise.quotes import money

LINE_FIELDS = ("product_id", "name", "description", "quantity", "unit", "unit_price", "discount_percent", "tax_rate", "position")


def copied(line: Any, **overrides: Any) -> dict[str, Any]:
    """The priced fields of a deal line item, quote line or order line."""
    return {**{name: getattr(line, name) for name in LINE_FIELDS}, **overrides}


def rounding_of(document: DocumentTotals) -> money.Rounding:
    return money.Rounding(document.currency, document.tax_mode, document.rounding_mode)


def apply_totals(document: DocumentTotals, lines: Sequence[Any], quantity_of: str = "quantity") -> money.Totals:
    """Set each line's net amount and the document's totals, in the document's rounding."""
    rounding = rounding_of(document)
    priced = [money.Line(Decimal(getattr(line, quantity_of)), line.unit_price, line.discount_percent, line.tax_rate)
              for line in lines]
    result = money.totals(priced, rounding)
    for line, amounts in zip(lines, result.lines, strict=True):
        line.net_amount = amounts.net
    document.net_total, document.tax_total, document.gross_total = result.net, result.tax, result.gross
    return result
