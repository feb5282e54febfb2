"""The two concurrency targets, through HTTP from many threads at once.

- Invoice numbers: concurrent postings, some of which fail after taking their number (the
  transaction rolls back), leave the posted invoices numbered 1…n with no gap and no
  duplicate, and every failed one still a draft without a number.
- Stock: concurrent confirmations of one-unit orders against 10 units reserve exactly 10.

The full targets (50 postings, 100 confirmations) run on PostgreSQL, where the row locks
do the work; on SQLite, whose writers queue one at a time, a smaller run shows the same."""

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from pipewise.billing import invoices
from pipewise.billing.models import Invoice, Order
from tests.billing import builders
from tests.billing.support import fresh, level
from tests.conftest import IS_POSTGRES

POSTINGS = 50 if IS_POSTGRES else 10
CONFIRMATIONS = 100 if IS_POSTGRES else 20


class InjectedFailure(RuntimeError):
    pass


def _all_at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    start = threading.Barrier(count)

    def run(index: int) -> Any:
        start.wait()
        try:
            return call(index)
        except InjectedFailure as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.postgres
def test_concurrent_postings_with_rollbacks_leave_no_gap_and_no_duplicate(session, co, api, monkeypatch):
    deal = co.deal()
    item = builders.product(session, stocked=False)
    builders.deal_line(session, deal, item, "1", "100.00")
    session.commit()
    ids = [api.post("/api/v1/invoices/from-deal", json={"deal_id": str(deal.id)}, headers=co.headers["east_rep"]).json()["id"]
           for _ in range(POSTINGS)]
    failing = set(ids[::5])  # every fifth posting fails after it took its number

    real_post = invoices._post

    def post_then_maybe_fail(session: Any, invoice: Invoice, **kw: Any) -> None:
        real_post(session, invoice, **kw)
        if str(invoice.id) in failing:
            raise InjectedFailure(f"{invoice.number} rolled back")

    monkeypatch.setattr(invoices, "_post", post_then_maybe_fail)
    manager = co.headers["east_manager"]
    results = _all_at_once(POSTINGS, lambda i: api.post(f"/api/v1/invoices/{ids[i]}/post", headers=manager))

    assert sum(isinstance(r, InjectedFailure) for r in results) == len(failing)
    assert all(r.status_code == 200 for r in results if not isinstance(r, InjectedFailure))
    fresh(session)
    rows = session.execute(select(Invoice.id, Invoice.number, Invoice.status)).all()
    numbers = sorted(int(number.rsplit("-", 1)[1]) for _id, number, status in rows if status == "posted")
    assert numbers == list(range(1, POSTINGS - len(failing) + 1))  # no gap, no duplicate
    assert all(number.startswith(f"INV-{date.today().year}-") for _id, number, status in rows if number)
    assert {str(i) for i, number, status in rows if status == "draft" and number is None} == failing


@pytest.mark.postgres
def test_concurrent_confirmations_never_reserve_more_than_is_there(session, co, api):
    widget = builders.product(session, on_hand=10)
    quotes = [builders.quote(session, co.deal(), [{"product": widget, "quantity": 1}]) for _ in range(CONFIRMATIONS)]
    session.commit()
    admin = co.headers["admin"]
    order_ids = [api.post("/api/v1/orders", json={"quote_id": str(q.id)}, headers=admin).json()["id"] for q in quotes]

    results = _all_at_once(CONFIRMATIONS, lambda i: api.post(f"/api/v1/orders/{order_ids[i]}/confirm", headers=admin))

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 10 + [422] * (CONFIRMATIONS - 10)
    stock_level = level(session, widget)
    assert (stock_level.on_hand, stock_level.reserved, stock_level.available) == (10, 10, 0)
    confirmed = session.scalar(select(func.count()).select_from(Order).where(Order.status == "confirmed"))
    assert confirmed == 10
    assert {uuid.UUID(order_ids[i]) for i, r in enumerate(results) if r.status_code == 200} == set(
        session.scalars(select(Order.id).where(Order.status == "confirmed")))
