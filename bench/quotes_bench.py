"""Quote totals and the write of a quote's lines.

    python -m bench.quotes_bench [--lines 200] [--samples 100] [--url postgresql+psycopg://…/<a *bench* database>]

Four figures for one quote of N lines (mixed tax rates and discounts), p50 and p95:

- ``money.totals``: the document's totals through ``quotes/money.py`` (target: under 20 ms
  for 200 lines), beside the same arithmetic as a bare ``Decimal`` loop;
- ``quote_service.set_lines``: the whole save a person's "Save lines" makes (check every
  line, replace the rows, totals, the approval check, history and event), beside the raw
  SQL of the same writes through the bare driver (delete the lines, insert N rows, update
  the quote, one history and one outbox row).

Each run wipes the database it is given (SQLite in a temporary folder by default; a
PostgreSQL database must have 'bench' in its name) and prints a Markdown table."""

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bench.env import SQLITE, Target, fresh_database, postgres_target
from bench.raw import begin, connect, placeholders

RATES = (Decimal(19), Decimal(7), Decimal(0), Decimal(22))
CENT = Decimal("0.01")


def sample_lines(n: int) -> list[dict[str, Any]]:
    return [{"name": f"Item {i}", "quantity": Decimal(1 + i % 7), "unit_price": Decimal(f"{(i * 37) % 900 + 0.99:.2f}"),
             "discount_percent": Decimal(i % 4 * 5), "tax_rate": RATES[i % len(RATES)], "optional": False,
             "selected": True} for i in range(n)]


def timed(fn: Callable[[], Any], samples: int) -> list[float]:
    fn()  # warm caches, plans and the first connection
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def raw_decimal_totals(lines: list[dict[str, Any]]) -> Decimal:
    """The same arithmetic as ``money.totals`` (per-line tax, half up), with nothing around it."""
    net_total = tax_total = Decimal(0)
    for line in lines:
        full = line["quantity"] * line["unit_price"]
        net = (full * (100 - line["discount_percent"]) / 100).quantize(CENT, ROUND_HALF_UP)
        net_total += net
        tax_total += (net * line["tax_rate"] / 100).quantize(CENT, ROUND_HALF_UP)
    return net_total + tax_total


def setup(target: Target) -> tuple[str, uuid.UUID, Any]:
    """A fresh database with a company, a deal and an empty quote; the quote's id and its
    owner as an actor."""
    from pipewise import domains
    from pipewise.auth.visibility import Actor
    from pipewise.db.session import session_scope
    from pipewise.deals.defaults import StageTemplate, create_pipeline
    from pipewise.deals.service import deal_service
    from pipewise.people.service import team_service, user_service
    from pipewise.quotes.service import quote_service

    url = fresh_database(target, "quotes")
    domains.load()
    with session_scope() as session:
        team = team_service.create(session, data={"name": "Bench"}, actor=_system())
        session.flush()
        user = user_service.create(session, data={"email": "bench@example.com", "name": "Bench Rep", "role": "rep",
                                                  "team_id": team.id, "password": None}, actor=_system())
        session.flush()
        actor = Actor.for_user(session, user)
        create_pipeline(session, name="Sales", stages=(StageTemplate("Open", 10),))
        deal = deal_service.create(session, data={"name": "Bench deal", "currency": "EUR"}, actor=actor)
        session.flush()
        quote = quote_service.create(session, data={"deal_id": deal.id}, actor=actor)
        session.flush()
        quote_id = quote.id
    return url, quote_id, actor


def _system() -> Any:
    from pipewise.auth.visibility import SYSTEM_ACTOR

    return SYSTEM_ACTOR


def service_write(quote_id: uuid.UUID, actor: Any, lines: list[dict[str, Any]]) -> Callable[[], None]:
    from pipewise.db.session import session_scope
    from pipewise.quotes.service import quote_service

    def run() -> None:
        with session_scope() as session:
            quote_service.set_lines(session, quote_id, lines, actor=actor)

    return run


def raw_write(url: str, quote_id: uuid.UUID, lines: list[dict[str, Any]]) -> Callable[[], None]:
    """The rows ``set_lines`` writes, as plain SQL: the lines, the quote's totals, one
    history row and one outbox row."""
    from pipewise.quotes import money

    conn = connect(url)
    sqlite = url.startswith("sqlite")
    qid = quote_id.hex if sqlite else quote_id
    rounding = money.Rounding("EUR")
    columns = ("id", "quote_id", "product_id", "name", "description", "quantity", "unit", "unit_price",
               "discount_percent", "tax_rate", "position", "optional", "selected", "net_amount")
    insert_line = f"INSERT INTO quote_line ({', '.join(columns)}) VALUES ({placeholders(conn, len(columns))})"
    mark = "?" if sqlite else "%s"

    def value(v: Decimal) -> Any:
        return str(v) if sqlite else v

    def run() -> None:
        begin(conn)
        cur = conn.cursor()
        cur.execute(f"DELETE FROM quote_line WHERE quote_id = {mark}", (qid,))
        rows = []
        for position, line in enumerate(lines, start=1):
            net = money.line_amounts(money.Line(line["quantity"], line["unit_price"], line["discount_percent"],
                                                line["tax_rate"]), rounding).net
            new_id = uuid.uuid4()
            rows.append((new_id.hex if sqlite else new_id, qid, None, line["name"], None, value(line["quantity"]), "C62",
                         value(line["unit_price"]), value(line["discount_percent"]), value(line["tax_rate"]), position,
                         False, True, value(net)))
        cur.executemany(insert_line, rows)
        totals = money.totals([money.Line(r["quantity"], r["unit_price"], r["discount_percent"], r["tax_rate"])
                               for r in lines], rounding)
        cur.execute(f"UPDATE quote SET net_total = {mark}, tax_total = {mark}, gross_total = {mark}, "
                    f"version = version + 1 WHERE id = {mark}",
                    (value(totals.net), value(totals.tax), value(totals.gross), qid))
        changes = json.dumps({"gross_total": ["0", str(totals.gross)]})
        cur.execute(f"INSERT INTO record_history (record_type, record_id, action, changes, at) "
                    f"VALUES ('quote', {mark}, 'updated', {mark}, CURRENT_TIMESTAMP)", (qid, changes))
        cur.execute(f"INSERT INTO outbox_event (name, record_type, record_id, payload, occurred_at) "
                    f"VALUES ('quote.updated', 'quote', {mark}, {mark}, CURRENT_TIMESTAMP)", (qid, changes))
        conn.commit()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="PostgreSQL URL of a database whose name contains 'bench' (default: SQLite)")
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    from pipewise.quotes import money

    target = postgres_target(args.url) if args.url else SQLITE
    lines = sample_lines(args.lines)
    as_money = [money.Line(x["quantity"], x["unit_price"], x["discount_percent"], x["tax_rate"]) for x in lines]
    rounding = money.Rounding("EUR")
    assert money.totals(as_money, rounding).gross == raw_decimal_totals(lines)
    figures = [
        ("money.totals", timed(lambda: money.totals(as_money, rounding), args.samples * 10)),
        ("raw Decimal loop (same arithmetic)", timed(lambda: raw_decimal_totals(lines), args.samples * 10)),
    ]
    url, quote_id, actor = setup(target)
    figures.append(("quote_service.set_lines (the whole save)", timed(service_write(quote_id, actor, lines), args.samples)))
    figures.append(("raw SQL of the same writes", timed(raw_write(url, quote_id, lines), args.samples)))
    print(f"| {target.label}, {args.lines} lines | p50 (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    for name, values in figures:
        print(f"| {name} | {statistics.median(values):.3f} | {p95(values):.3f} |")


if __name__ == "__main__":
    main()
