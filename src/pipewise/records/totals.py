"""How many records a list matches in all (not only on its page), and what their amounts
add up to, by currency — with the same visibility, filter and search as the list. The
count stops at ``COUNT_CAP`` (a list then says "10,000+"), so a broad list of a big table
never scans it whole just to count."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.records.registry import spec_for
from pipewise.records.repository import ListQuery, RecordRepository


COUNT_CAP = 10_000


@dataclass
class ListTotals:
    count: int
    amounts: dict[str, Decimal] = field(default_factory=dict)  # by currency; empty when capped
    capped: bool = False  # more than COUNT_CAP match: ``count`` is the cap


def list_totals(session: Session, record_type: str, actor: Actor, query: ListQuery, *,
                amount: str | None = None, currency: str = "currency") -> ListTotals:
    """The count of what ``query`` matches, and the sum of its ``amount`` column by ``currency``."""
    repo: RecordRepository[Any] = RecordRepository(session, spec_for(record_type))
    stmt, _column = repo.list_statement(actor, replace(query, cursor=None, sort="-created_at"))
    first = stmt.order_by(None).limit(COUNT_CAP + 1).subquery()
    count = session.scalar(select(func.count()).select_from(first)) or 0
    if count > COUNT_CAP:
        return ListTotals(COUNT_CAP, capped=True)
    if amount is None:
        return ListTotals(count)
    matched = stmt.order_by(None).subquery()
    rows = session.execute(
        select(matched.c[currency], func.count(), func.sum(matched.c[amount])).group_by(matched.c[currency])
    ).all()
    totals = ListTotals(sum(count for _c, count, _s in rows))
    for code, _count, total in rows:
        if total is not None:
            totals.amounts[code] = Decimal(total)
    return totals
