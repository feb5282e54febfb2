"""The rounding corpus: quote totals from ``quotes.money`` against an independent
``Decimal`` reference written here, for every case in both tax modes (per line, on
totals) and both rounding modes (half up, half even). The known hard cases are pinned
to hand-checked figures as well."""

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import NamedTuple

import pytest

from pipewise.quotes import money

D = Decimal


class Case(NamedTuple):
    name: str
    currency: str
    lines: tuple[tuple[str, str, str, str], ...]  # quantity, unit price, discount %, tax %


CASES = (
    Case("per-line tax 6527.81 vs on-totals 6527.80", "EUR", (("1", "2742.03", "0", "19"), ("1", "2743.52", "0", "19"))),
    Case("5.63 x 4 at 22 %", "EUR", (("4", "5.63", "0", "22"),)),
    Case("5.63 on four lines at 22 %", "EUR", (("1", "5.63", "0", "22"),) * 4),
    Case("net at an exact half cent", "EUR", (("1", "2.345", "0", "0"),)),
    Case("tax at an exact half cent", "EUR", (("1", "0.25", "0", "10"),)),
    Case("discount with quantity", "EUR", (("3", "19.99", "15", "19"),)),
    Case("a third off", "EUR", (("7", "13.37", "33.3333", "19"),)),
    Case("yen with discount", "JPY", (("3", "1234", "5", "10"),)),
    Case("yen tax at a half yen", "JPY", (("1", "125", "0", "10"),)),
    Case("yen on many lines", "JPY", (("1", "333", "0", "8"),) * 3 + (("2", "99", "10", "10"),)),
    Case("a zero-rated line beside a taxed one", "EUR", (("2", "50", "0", "0"), ("1", "99.99", "0", "19"))),
    Case("two rates", "EUR", (("3", "12.49", "0", "7"), ("2", "24.99", "0", "19"), ("1", "0.99", "0", "7"))),
    Case("hours at a fraction", "EUR", (("2.5", "85.50", "0", "19"),)),
    Case("a tiny quantity of something dear", "EUR", (("0.0001", "123456.7891", "0", "19"),)),
    Case("free of charge", "EUR", (("5", "19.90", "100", "19"),)),
    Case("large amounts", "EUR", (("1000", "999999.9999", "2.5", "19"),)),
    Case("a hundred one-cent lines", "EUR", (("1", "0.01", "0", "19"),) * 100),
    Case("a price of four decimals", "EUR", (("1000", "0.0125", "0", "19"),)),
    Case("four decimals rounding up", "EUR", (("3", "0.0125", "0", "19"),)),
    Case("a group's tax at a half cent", "EUR", (("1", "0.50", "0", "5"),)),
    Case("an eighth off", "EUR", (("8", "9.99", "12.5", "19"),)),
    Case("discounts on every line", "EUR", (("2", "10.05", "3", "19"), ("3", "7.77", "7", "19"), ("1", "1.01", "1", "19"))),
    Case("reduced and standard rates with discounts", "EUR", (("12", "4.19", "10", "7"), ("1", "1499", "15", "19"))),
    Case("italian rates", "EUR", (("4", "5.63", "0", "22"), ("2", "3.33", "0", "10"), ("1", "8.88", "0", "4"))),
    Case("swiss rate with a decimal", "CHF", (("3", "17.35", "0", "8.1"), ("2", "4.05", "0", "2.6"))),
    Case("pound sterling VAT", "GBP", (("7", "2.99", "0", "20"),)),
    Case("half-cent nets that even out", "EUR", (("1", "0.125", "0", "0"), ("1", "0.135", "0", "0"), ("1", "0.145", "0", "0"))),
    Case("a discount of a fraction of a percent", "EUR", (("10", "99.99", "0.5", "19"),)),
    Case("a quantity with four decimals", "EUR", (("1.3333", "75", "0", "19"),)),
    Case("tax summed before or after rounding", "EUR", (("1", "1.05", "0", "19"),) * 3),
    Case("one line, nothing special", "USD", (("1", "100", "0", "0"),)),
    Case("no lines at all", "EUR", ()),
    Case("dinar: three decimals", "KWD", (("3", "1.2345", "0", "5"),)),
)

MODES = [(tax_mode, rounding) for tax_mode in ("per_line", "on_totals") for rounding in ("half_up", "half_even")]


class Reference(NamedTuple):
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


def reference(case: Case, tax_mode: str, rounding: str) -> Reference:
    """Written from the rules, not from the module: nets rounded per line; per line, each
    line's tax rounded and summed; on totals, each rate's summed base taxed and rounded."""
    quantum = {"JPY": D(1), "KWD": D("0.001")}.get(case.currency, D("0.01"))
    how = ROUND_HALF_UP if rounding == "half_up" else ROUND_HALF_EVEN

    def rnd(value: Decimal) -> Decimal:
        return value.quantize(quantum, rounding=how)

    nets: list[tuple[Decimal, Decimal]] = []
    discount = D(0)
    for quantity, price, percent, rate in case.lines:
        full = D(quantity) * D(price)
        net = rnd(full - full * D(percent) / 100)
        discount += rnd(full) - net
        nets.append((net, D(rate)))
    if tax_mode == "per_line":
        tax = sum((rnd(net * rate / 100) for net, rate in nets), D(0))
    else:
        bases: dict[Decimal, Decimal] = {}
        for net, rate in nets:
            bases[rate] = bases.get(rate, D(0)) + net
        tax = sum((rnd(base * rate / 100) for rate, base in bases.items()), D(0))
    net_total = sum((net for net, _ in nets), D(0))
    return Reference(rnd(discount), rnd(net_total), rnd(tax), rnd(net_total + tax))


def computed(case: Case, tax_mode: str, rounding: str) -> money.Totals:
    lines = [money.Line(D(q), D(p), D(d), D(r)) for q, p, d, r in case.lines]
    return money.totals(lines, money.Rounding(case.currency, tax_mode, rounding))


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("tax_mode", "rounding"), MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_totals_match_the_reference(case: Case, tax_mode: str, rounding: str) -> None:
    totals, expected = computed(case, tax_mode, rounding), reference(case, tax_mode, rounding)
    assert (totals.discount, totals.net, totals.tax, totals.gross) == tuple(expected)
    assert totals.gross == totals.net + totals.tax
    assert sum((g.base for g in totals.tax_groups), D(0)) == totals.net
    assert totals.net.as_tuple().exponent == expected.net.as_tuple().exponent  # shown to the currency's minor unit


def _case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


# (case, tax mode, rounding) -> (net, tax, gross), worked out by hand
PINNED = {
    ("per-line tax 6527.81 vs on-totals 6527.80", "per_line", "half_up"): ("5485.55", "1042.26", "6527.81"),
    ("per-line tax 6527.81 vs on-totals 6527.80", "on_totals", "half_up"): ("5485.55", "1042.25", "6527.80"),
    ("5.63 x 4 at 22 %", "per_line", "half_up"): ("22.52", "4.95", "27.47"),
    ("5.63 on four lines at 22 %", "per_line", "half_up"): ("22.52", "4.96", "27.48"),
    ("5.63 on four lines at 22 %", "on_totals", "half_up"): ("22.52", "4.95", "27.47"),
    ("net at an exact half cent", "per_line", "half_up"): ("2.35", "0.00", "2.35"),
    ("net at an exact half cent", "per_line", "half_even"): ("2.34", "0.00", "2.34"),
    ("tax at an exact half cent", "per_line", "half_up"): ("0.25", "0.03", "0.28"),
    ("tax at an exact half cent", "per_line", "half_even"): ("0.25", "0.02", "0.27"),
    ("discount with quantity", "per_line", "half_up"): ("50.97", "9.68", "60.65"),
    ("yen with discount", "per_line", "half_up"): ("3517", "352", "3869"),
    ("yen tax at a half yen", "per_line", "half_up"): ("125", "13", "138"),
    ("yen tax at a half yen", "per_line", "half_even"): ("125", "12", "137"),
    ("a hundred one-cent lines", "per_line", "half_up"): ("1.00", "0.00", "1.00"),
    ("a hundred one-cent lines", "on_totals", "half_up"): ("1.00", "0.19", "1.19"),
    ("tax summed before or after rounding", "per_line", "half_up"): ("3.15", "0.60", "3.75"),
    ("tax summed before or after rounding", "on_totals", "half_up"): ("3.15", "0.60", "3.75"),
    ("four decimals rounding up", "per_line", "half_up"): ("0.04", "0.01", "0.05"),
    ("free of charge", "per_line", "half_up"): ("0.00", "0.00", "0.00"),
}


@pytest.mark.parametrize("key", PINNED, ids=lambda k: f"{k[0]} / {k[1]} / {k[2]}")
def test_hand_checked_figures(key: tuple[str, str, str]) -> None:
    name, tax_mode, rounding = key
    totals = computed(_case(name), tax_mode, rounding)
    assert (totals.net, totals.tax, totals.gross) == tuple(D(v) for v in PINNED[key])


def test_discount_is_what_the_lines_lost() -> None:
    totals = computed(_case("discount with quantity"), "per_line", "half_up")
    assert totals.discount == D("59.97") - D("50.97")
