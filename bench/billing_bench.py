"""Billing benchmarks: what the gap-free invoice counter and the stock row lock cost.

    python -m bench.billing_bench --database URL [--postings 200] [--threads 1 8 32]

The database is wiped and migrated (use a scratch database). Each case posts drafts (or
confirms one-unit orders) through the services, one transaction each, from 1, 8 and 32
threads: postings of one series and year queue on their counter row, confirmations of one
product on its stock level. Beside them, the same number of raw ``UPDATE … RETURNING`` of
a counter row in their own transactions: the floor any gap-free series pays. Prints the
time per posting (p50, p95) and the throughput; no figure is asserted."""

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from bench.report import percentile
from pipewise import domains
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing import invoices, orders, stock
from pipewise.db import migrate
from pipewise.db.session import get_engine, session_scope


def _reset(url: str) -> None:
    import os

    from pipewise.config import get_settings
    from pipewise.db.session import reset_engine

    os.environ["PIPEWISE_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engine()
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    domains.load()
    if url.startswith("postgresql"):
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade()


def _seed(count: int, with_stock: bool) -> tuple[list, list]:  # type: ignore[type-arg]
    from pipewise.deals.defaults import StageTemplate, create_pipeline
    from pipewise.deals.service import deal_service
    from pipewise.quotes.models import DealLineItem, Product, Quote, QuoteLine

    with session_scope() as session:
        create_pipeline(session, name="Bench", stages=(StageTemplate("Open", 10),))
        product = Product(sku=f"B-{time.time_ns()}", name="Bench widget", price=Decimal("10"), currency="EUR", stocked=True)
        session.add(product)
        session.flush()
        deal = deal_service.create(session, data={"name": "Bench deal", "currency": "EUR"}, actor=SYSTEM_ACTOR)
        session.flush()
        session.add(DealLineItem(deal_id=deal.id, name="Bench widget", quantity=Decimal(1), unit_price=Decimal("10"),
                                 tax_rate=Decimal(19)))
        session.flush()
        drafts = [invoices.from_deal(session, deal.id, actor=SYSTEM_ACTOR).id for _ in range(count)]
        order_ids = []
        if with_stock:
            stock.receive(session, product_id=product.id, quantity=Decimal(count), reason="bench", actor=SYSTEM_ACTOR)
            for n in range(count):
                quote = Quote(number=f"QB-{n}", title="Bench", deal_id=deal.id, status="accepted", currency="EUR")
                session.add(quote)
                session.flush()
                session.add(QuoteLine(quote_id=quote.id, product_id=product.id, name="Bench widget", quantity=Decimal(1),
                                      unit_price=Decimal("10"), tax_rate=Decimal(19)))
                session.flush()
                order_ids.append(orders.from_quote(session, quote.id, actor=SYSTEM_ACTOR)[0].id)
    return drafts, order_ids


def _timed(items: list, threads: int, work: Callable[[object], None]) -> tuple[list[float], float]:  # type: ignore[type-arg]
    def one(item: object) -> float:
        started = time.perf_counter()
        work(item)
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        samples = list(pool.map(one, items))
    return samples, time.perf_counter() - started


def _post(invoice_id: object) -> None:
    with session_scope() as session:
        invoices.post(session, invoice_id, actor=SYSTEM_ACTOR)  # type: ignore[arg-type]


def _confirm(order_id: object) -> None:
    with session_scope() as session:
        orders.confirm(session, order_id, actor=SYSTEM_ACTOR)  # type: ignore[arg-type]


def _raw_counter(_item: object) -> None:
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE number_counter SET last_value = last_value + 1 WHERE series = 'raw' AND year = 2000 "
                          "RETURNING last_value"))


def _report(case: str, threads: int, samples: list[float], seconds: float) -> None:
    print(f"  {case:34} {threads:>3} threads  p50 {statistics.median(samples):7.2f} ms  "
          f"p95 {percentile(samples, 95):7.2f} ms  {len(samples) / seconds:8.0f} /s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.billing_bench", description=__doc__)
    parser.add_argument("--database", required=True, help="a scratch database URL (it is wiped)")
    parser.add_argument("--postings", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    for threads in args.threads:
        _reset(args.database)
        drafts, order_ids = _seed(args.postings, with_stock=True)
        with get_engine().begin() as conn:
            conn.execute(text("INSERT INTO number_counter (series, year, last_value) VALUES ('raw', 2000, 0)"))
        _report("post an invoice (gap-free number)", threads, *_timed(drafts, threads, _post))
        _report("confirm a one-unit order (stock lock)", threads, *_timed(order_ids, threads, _confirm))
        _report("raw UPDATE … RETURNING of a counter", threads, *_timed(list(range(args.postings)), threads, _raw_counter))


if __name__ == "__main__":
    main()
