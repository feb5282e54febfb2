"""Money on quotes, orders and invoices: exact ``Decimal`` arithmetic, one currency per
document, and one place that decides where rounding happens.

Every line's net amount is rounded to the currency's minor unit (what a document shows
must add up), so the two company settings differ in where the *tax* is rounded:

- ``per_line``: each line's tax is rounded, and a rate's tax is the sum of its lines'.
- ``on_totals``: a rate's tax is its taxable base (the sum of its lines' rounded nets)
  times the rate, rounded once. This is the EN 16931 rule (BR-CO-17), so e-invoices
  always match it; ``per_line`` can differ from it by a cent per line.

Rounding is ``half_up`` (commercial rounding, 2.345 → 2.35; the default) or
``half_even`` (banker's rounding, 2.345 → 2.34, which does not drift upwards over many
sums)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import cache

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
TAX_MODES = ("per_line", "on_totals")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


@cache
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of a currency as a quantum: 0.01 for EUR, 1 for JPY."""
    from babel.numbers import get_currency_precision

    return Decimal(1).scaleb(-get_currency_precision(currency.upper()))


@dataclass(frozen=True)
class Rounding:
    currency: str = "EUR"
    tax_mode: str = "per_line"
    mode: str = "half_up"

    def __post_init__(self) -> None:
        if self.tax_mode not in TAX_MODES:
            raise ValueError(f"tax_mode must be one of {', '.join(TAX_MODES)}")
        if self.mode not in ROUNDING_MODES:
            raise ValueError(f"rounding mode must be one of {', '.join(ROUNDING_MODES)}")

    def round(self, amount: Decimal) -> Decimal:
        return amount.quantize(minor_unit(self.currency), rounding=ROUNDING_MODES[self.mode])


@dataclass(frozen=True)
class Line:
    """One priced line: ``discount_percent`` and ``tax_rate`` are percentages (22 = 22 %)."""

    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = ZERO
    tax_rate: Decimal = ZERO


@dataclass(frozen=True)
class LineAmounts:
    gross_before_discount: Decimal  # quantity × unit price, rounded
    discount: Decimal  # what the discount takes off, rounded
    net: Decimal  # what the line costs before tax, rounded
    tax: Decimal  # per_line: rounded; on_totals: the line's exact share, for display only


@dataclass(frozen=True)
class TaxGroup:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineAmounts, ...]
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    tax_groups: tuple[TaxGroup, ...]  # one per rate, in rate order


def line_amounts(line: Line, rounding: Rounding) -> LineAmounts:
    undiscounted = line.quantity * line.unit_price
    net = rounding.round(undiscounted * (HUNDRED - line.discount_percent) / HUNDRED)
    before = rounding.round(undiscounted)
    exact_tax = net * line.tax_rate / HUNDRED
    tax = rounding.round(exact_tax) if rounding.tax_mode == "per_line" else exact_tax
    return LineAmounts(before, before - net, net, tax)


def totals(lines: Iterable[Line], rounding: Rounding) -> Totals:
    """The document's totals, exact to the minor unit in the chosen mode."""
    computed: list[LineAmounts] = []
    bases: dict[Decimal, Decimal] = {}
    line_taxes: dict[Decimal, Decimal] = {}
    discount = ZERO
    for line in lines:
        amounts = line_amounts(line, rounding)
        computed.append(amounts)
        rate = line.tax_rate.normalize() if line.tax_rate else ZERO
        bases[rate] = bases.get(rate, ZERO) + amounts.net
        line_taxes[rate] = line_taxes.get(rate, ZERO) + amounts.tax
        discount += amounts.discount
    groups = []
    for rate in sorted(bases):
        if rounding.tax_mode == "per_line":
            tax = line_taxes[rate]
        else:
            tax = rounding.round(bases[rate] * rate / HUNDRED)
        groups.append(TaxGroup(rate, bases[rate], tax))
    net = sum((group.base for group in groups), ZERO)
    tax = sum((group.tax for group in groups), ZERO)
    zero = rounding.round(ZERO)
    return Totals(tuple(computed), discount + zero, net + zero, tax + zero, net + tax + zero, tuple(groups))
