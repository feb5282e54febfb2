"""How many records a list matches in all (not only on its page), and what their amounts
add up to, by currency — with the same visibility, filter and search as the list."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.records.registry import spec_for
from pipewise.records.repository import ListQuery, RecordRepository


@dataclass
class ListTotals:
    count: int
    amounts: dict[str, Decimal] = field(default_factory=dict)  # by currency


def list_totals(session: Session, record_type: str, actor: Actor, query: ListQuery, *,
                amount: str | None = None, currency: str = "currency") -> ListTotals:
    """The count of what ``query`` matches, and the sum of its ``amount`` column by ``currency``."""
    repo: RecordRepository[Any] = RecordRepository(session, spec_for(record_type))
    stmt, _column = repo.list_statement(actor, replace(query, cursor=None, sort="-created_at"))
    matched = stmt.order_by(None).subquery()
    if amount is None:
        return ListTotals(session.scalar(select(func.count()).select_from(matched)) or 0)
    rows = session.execute(
        select(matched.c[currency], func.count(), func.sum(matched.c[amount])).group_by(matched.c[currency])
    ).all()
    totals = ListTotals(sum(count for _c, count, _s in rows))
    for code, _count, total in rows:
        if total is not None:
            totals.amounts[code] = Decimal(total)
    return totals
