"""Billing test data: stocked products, accepted quotes with optional lines, teams."""

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing import stock
from pipewise.db.base import utcnow
from pipewise.quotes import money
from pipewise.quotes.models import DealLineItem, Product, Quote, QuoteLine
from pipewise.quotes.settings import company_settings
from tests.factories import Factory

_n = itertools.count(1)


def product(session: Session, *, price: str = "10.00", tax_rate: str = "19", stocked: bool = True, on_hand: int = 0) -> Product:
    n = next(_n)
    row = Product(sku=f"SKU-{n}", name=f"Widget {n}", price=Decimal(price), currency="EUR", tax_rate=Decimal(tax_rate),
                  stocked=stocked)
    session.add(row)
    session.flush()
    if on_hand:
        stock.receive(session, product_id=row.id, quantity=Decimal(on_hand), reason="opening stock", actor=SYSTEM_ACTOR)
    return row


def quote(session: Session, deal: Any, lines: list[dict[str, Any]], *, status: str = "accepted") -> Quote:
    """A quote on ``deal``; each line: product, quantity, unit_price, discount_percent,
    tax_rate, selected (default True)."""
    n = next(_n)
    row = Quote(number=f"Q-{n}", title=f"Quote {n}", deal_id=deal.id, account_id=deal.account_id, owner_id=deal.owner_id,
                status=status, currency="EUR", answered_at=utcnow() if status == "accepted" else None)
    session.add(row)
    session.flush()
    priced = []
    for position, spec in enumerate(lines):
        item = spec["product"]
        line = QuoteLine(quote_id=row.id, product_id=item.id, name=item.name, quantity=Decimal(spec.get("quantity", 1)),
                         unit_price=Decimal(spec.get("unit_price", item.price)),
                         discount_percent=Decimal(spec.get("discount_percent", 0)),
                         tax_rate=Decimal(spec.get("tax_rate", item.tax_rate)), position=position,
                         optional=not spec.get("selected", True), selected=spec.get("selected", True))
        session.add(line)
        priced.append(line)
    chosen = [line for line in priced if line.selected]
    totals = money.totals([money.Line(l.quantity, l.unit_price, l.discount_percent, l.tax_rate) for l in chosen],
                          money.Rounding("EUR"))
    row.net_total, row.tax_total, row.gross_total = totals.net, totals.tax, totals.gross
    session.flush()
    return row


def deal_line(session: Session, deal: Any, item: Product, quantity: str, unit_price: str, tax_rate: str = "19",
              discount: str = "0") -> DealLineItem:
    row = DealLineItem(deal_id=deal.id, product_id=item.id, name=item.name, quantity=Decimal(quantity),
                       unit_price=Decimal(unit_price), tax_rate=Decimal(tax_rate), discount_percent=Decimal(discount))
    session.add(row)
    session.flush()
    return row


def allow_negative_stock(session: Session) -> None:
    company_settings(session).allow_negative_stock = True
    session.flush()


@dataclass
class Company:
    """An admin, and a manager and a rep in each of two teams, with their API headers."""

    factory: Factory
    users: dict[str, User]
    headers: dict[str, dict[str, str]]

    def deal(self, owner: str = "east_rep", **kw: Any) -> Any:
        return self.factory.deal(owner=self.users[owner], currency="EUR", **kw)


def company(session: Session, factory: Factory) -> Company:
    east, west = factory.team("East"), factory.team("West")
    users = {"admin": factory.user(role="admin", password=None)}
    for name, role, team in (("east_manager", "manager", east), ("east_rep", "rep", east),
                             ("west_rep", "rep", west), ("west_manager", "manager", west)):
        users[name] = factory.user(role=role, team=team, password=None)
    east.manager_id, west.manager_id = users["east_manager"].id, users["west_manager"].id
    factory.pipeline()
    session.commit()
    return Company(factory, users, {name: factory.headers(user) for name, user in users.items()})
