"""Real quotes for the sending and acceptance tests: rows written directly (the quote
builder is another package's), with line amounts and totals from ``money.totals``."""

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pipewise.db.base import utcnow
from pipewise.quotes import money
from pipewise.quotes.models import Quote, QuoteLine
from pipewise.quotes.settings import company_settings

LINES = (
    {"name": "Platform licence", "quantity": Decimal(10), "unit_price": Decimal("120.0000"), "discount_percent": Decimal(5), "tax_rate": Decimal(19)},
    {"name": "Onboarding", "quantity": Decimal(1), "unit_price": Decimal("800.0000"), "tax_rate": Decimal(19)},
    {"name": "Premium support", "quantity": Decimal(12), "unit_price": Decimal("49.9900"), "tax_rate": Decimal(19), "optional": True, "selected": False},
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_quote(session: Any, factory: Any, *, owner: Any = None, status: str = "draft", lines: tuple[dict[str, Any], ...] = LINES,
               contact: Any = None, deal: Any = None, valid_until: date | None = None, **kw: Any) -> Quote:
    """A quote on a deal of ``owner`` for a contact at an account, totals of its selected lines."""
    if deal is None:
        if not session.info.get("pipeline"):
            session.info["pipeline"] = factory.pipeline()
        account = factory.account(owner)
        contact = contact or factory.contact(owner, account_id=account.id)
        deal = factory.deal(owner, account_id=account.id)
    rounding = money.Rounding("EUR", "per_line", "half_up")
    quote = Quote(
        number=kw.pop("number", f"Q-2026-{utcnow().microsecond:06d}"), title="Rollout for the sales team", deal_id=deal.id,
        account_id=deal.account_id, contact_id=contact.id if contact else None, owner_id=owner.id if owner else None,
        status=status, currency="EUR", valid_until=valid_until or (utcnow().date() + timedelta(days=30)),
        terms="Payable within 30 days of the invoice.", **kw,
    )
    session.add(quote)
    session.flush()
    rows = [QuoteLine(quote_id=quote.id, position=i, **line) for i, line in enumerate(lines)]
    for row in rows:
        row.optional = bool(row.optional)
        row.selected = True if row.selected is None else row.selected
        row.discount_percent = row.discount_percent or Decimal(0)
        row.net_amount = money.line_amounts(money.Line(row.quantity, row.unit_price, row.discount_percent, row.tax_rate), rounding).net
    session.add_all(rows)
    chosen = [money.Line(r.quantity, r.unit_price, r.discount_percent, r.tax_rate) for r in rows if r.selected]
    totals = money.totals(chosen, rounding)
    quote.net_total, quote.tax_total, quote.gross_total, quote.discount_total = totals.net, totals.tax, totals.gross, totals.discount
    session.flush()
    return quote


def accepted_stage(session: Any, name: str = "Demo") -> Any:
    """Set the company's accepted stage to the test pipeline's ``name`` stage."""
    _pipeline, stages = session.info["pipeline"]
    stage = next(s for s in stages if s.name == name)
    company_settings(session).accepted_stage_id = stage.id
    session.flush()
    return stage


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)
