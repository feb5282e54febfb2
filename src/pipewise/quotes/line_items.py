"""Line items on deals: what is being sold, at what price.

Every read and write goes through the deal first (``deal_service.get``), so whoever may
not see a deal gets the same 404 for its lines, and whoever may see but not change it
gets 403. A write locks the deal's row, so two people editing lines of one deal take
turns; each line carries its own version for ``If-Match``.

A change is written to the deal's history (one entry naming the line, with the amount
when the deal follows its lines) through the deal service, in the same transaction, and
so fires one ``deal.updated``."""

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal
from pipewise.deals.service import deal_service
from pipewise.errors import ErrorCollector, NotFound, ValidationFailed
from pipewise.quotes import money
from pipewise.quotes.catalogue import HUNDRED, QUANTITY, UNIT_PRICE, find_product, price_for
from pipewise.quotes.models import DealLineItem, LineFields
from pipewise.quotes.settings import company_settings, rounding_for
from pipewise.records.service import check_version

# A line's quantity × unit price stays below this, so a thousand lines with their tax still
# fit the amount columns (Numeric(18, 2)).
MAX_LINE_AMOUNT = Decimal(10) ** 12
LINE_COLUMNS = ("product_id", "name", "description", "quantity", "unit", "unit_price", "discount_percent", "tax_rate")
MAX_LINES = 1000


def price_line(
    session: Session, values: dict[str, Any], *, account: Account | None, currency: str, on_date: date,
    prefix: str = "", current: LineFields | None = None,
) -> dict[str, Any]:
    """Column values of a priced line from what was typed (``values``, only the keys sent)
    on top of ``current``: the product fills the name, unit and tax rate, the price book
    the unit price, unless given. Raises ValidationFailed naming ``prefix``+field."""
    errors = ErrorCollector()
    merged = {k: getattr(current, k) for k in LINE_COLUMNS} if current is not None else {"quantity": Decimal(1)}
    merged.update({k: v for k, v in values.items() if k in LINE_COLUMNS})
    product = None
    if merged.get("product_id") is not None:
        try:
            product = find_product(session, merged["product_id"], prefix + "product_id")
        except ValidationFailed as exc:
            errors.errors.extend(exc.errors)
    quantity = merged.get("quantity")
    if quantity is None or Decimal(quantity) <= 0:
        errors.add(prefix + "quantity", "must be more than zero")
    for key in ("discount_percent", "tax_rate"):
        if merged.get(key) is not None and not 0 <= Decimal(merged[key]) <= HUNDRED:
            errors.add(prefix + key, "must be a percentage between 0 and 100")
    if merged.get("unit_price") is not None and Decimal(merged["unit_price"]) < 0:
        errors.add(prefix + "unit_price", "must be zero or more")
    if product is None and not merged.get("name"):
        errors.add(prefix + "name", "is required for a line without a product")
    if product is None and merged.get("unit_price") is None:
        errors.add(prefix + "unit_price", "is required for a line without a product")
    errors.raise_if_any()
    quantity = Decimal(quantity).quantize(QUANTITY)
    if product is not None and values.get("unit_price") is None and _follows_book(
        session, current, values, product, account=account, currency=currency, on_date=on_date
    ):
        try:
            merged["unit_price"] = price_for(session, product, quantity, account, currency, on_date).unit_price
        except ValidationFailed as exc:
            raise ValidationFailed(exc.detail, errors=[type(e)(prefix + e.field, e.message) for e in exc.errors]) from None
    if product is not None:
        merged["name"] = merged.get("name") or product.name
        merged["unit"] = merged.get("unit") or product.unit
        if merged.get("tax_rate") is None:
            merged["tax_rate"] = product.tax_rate
    if quantity * Decimal(merged["unit_price"]) >= MAX_LINE_AMOUNT:
        raise ValidationFailed.on(prefix + "quantity", f"quantity × unit price must stay below {MAX_LINE_AMOUNT:,}")
    return {
        "product_id": product.id if product is not None else None,
        "name": str(merged["name"]).strip(),
        "description": merged.get("description"),
        "quantity": quantity,
        "unit": str(merged.get("unit") or "C62").upper(),
        "unit_price": Decimal(merged["unit_price"]).quantize(UNIT_PRICE),
        "discount_percent": Decimal(merged.get("discount_percent") or 0).quantize(UNIT_PRICE),
        "tax_rate": Decimal(merged.get("tax_rate") or 0).quantize(UNIT_PRICE),
    }


def _follows_book(session: Session, current: LineFields | None, values: dict[str, Any], product: Any, *,
                  account: Account | None, currency: str, on_date: date) -> bool:
    """Whether the line takes its price from the book: a new line, a new product, or a new
    quantity of a line whose price is still the book's (a price typed by hand stays)."""
    if current is None or "product_id" in values and values["product_id"] != current.product_id:
        return True
    if "quantity" not in values:
        return False
    try:
        return price_for(session, product, current.quantity, account, currency, on_date).unit_price == current.unit_price
    except ValidationFailed:
        return False


def money_lines(lines: Iterable[LineFields]) -> list[money.Line]:
    return [money.Line(line.quantity, line.unit_price, line.discount_percent, line.tax_rate) for line in lines]


def max_discount(lines: Iterable[LineFields]) -> Decimal:
    return max((line.discount_percent for line in lines), default=Decimal(0))


class LineItemService:
    """Add, change, remove and reorder the line items of a deal."""

    # -- reads --

    def lines(self, session: Session, deal_id: uuid.UUID, *, actor: Actor) -> tuple[Deal, list[DealLineItem]]:
        deal = deal_service.get(session, deal_id, actor=actor)
        return deal, self._lines_of(session, deal.id)

    def totals(self, session: Session, deal: Deal, lines: Sequence[DealLineItem]) -> money.Totals:
        return money.totals(money_lines(lines), rounding_for(company_settings(session), deal.currency))

    def net_of(self, session: Session, line: DealLineItem) -> Decimal:
        deal = session.get(Deal, line.deal_id)
        rounding = rounding_for(company_settings(session), deal.currency if deal else None)
        return money.line_amounts(money_lines([line])[0], rounding).net

    def _lines_of(self, session: Session, deal_id: uuid.UUID) -> list[DealLineItem]:
        return list(session.scalars(
            select(DealLineItem).where(DealLineItem.deal_id == deal_id).order_by(DealLineItem.position, DealLineItem.created_at)
        ))

    # -- writes --

    def add(self, session: Session, deal_id: uuid.UUID, *, data: dict[str, Any], actor: Actor) -> DealLineItem:
        deal = deal_service.get(session, deal_id, actor=actor, write=True)
        count = session.scalar(select(func.count()).where(DealLineItem.deal_id == deal.id)) or 0
        if count >= MAX_LINES:
            raise ValidationFailed.on("lines", f"a deal holds at most {MAX_LINES} lines")
        values = price_line(session, data, **self._pricing(session, deal))
        last = session.scalar(select(func.max(DealLineItem.position)).where(DealLineItem.deal_id == deal.id))
        line = DealLineItem(deal_id=deal.id, position=(last or 0) + 1, **values)
        session.add(line)
        session.flush()
        self._after_change(session, deal, actor, {"line_added": [None, self._describe(line)]})
        return line

    def update(
        self, session: Session, deal_id: uuid.UUID, line_id: uuid.UUID, *, data: dict[str, Any], actor: Actor,
        expected_version: int | Collection[int] | None = None,
    ) -> DealLineItem:
        deal = deal_service.get(session, deal_id, actor=actor, write=True)
        line = self._line(session, deal, line_id)
        check_version(line, expected_version)
        before = self._describe(line)
        values = price_line(session, data, current=line, **self._pricing(session, deal))
        for key, value in values.items():
            if getattr(line, key) != value:
                setattr(line, key, value)
        session.flush()
        after = self._describe(line)
        if after != before:
            self._after_change(session, deal, actor, {"line_changed": [before, after]})
        return line

    def remove(
        self, session: Session, deal_id: uuid.UUID, line_id: uuid.UUID, *, actor: Actor,
        expected_version: int | Collection[int] | None = None,
    ) -> None:
        deal = deal_service.get(session, deal_id, actor=actor, write=True)
        line = self._line(session, deal, line_id)
        check_version(line, expected_version)
        before = self._describe(line)
        session.delete(line)
        session.flush()
        self._after_change(session, deal, actor, {"line_removed": [before, None]})

    def reorder(self, session: Session, deal_id: uuid.UUID, line_ids: Sequence[uuid.UUID], *, actor: Actor) -> list[DealLineItem]:
        deal = deal_service.get(session, deal_id, actor=actor, write=True)
        lines = self._lines_of(session, deal.id)
        if sorted(map(str, line_ids)) != sorted(str(line.id) for line in lines):
            raise ValidationFailed.on("line_ids", "must name every line of the deal once")
        by_id = {line.id: line for line in lines}
        before = [line.name for line in lines]
        for position, line_id in enumerate(line_ids, start=1):
            if by_id[line_id].position != position:
                by_id[line_id].position = position
        session.flush()
        ordered = self._lines_of(session, deal.id)
        if [line.name for line in ordered] != before:
            self._after_change(session, deal, actor, {"lines_reordered": [before, [line.name for line in ordered]]})
        return ordered

    def follow_lines(self, session: Session, deal_id: uuid.UUID, *, follow: bool, actor: Actor,
                     expected_version: int | Collection[int] | None = None) -> Deal:
        """Make the deal's amount follow its lines (and set it now), or stop following."""
        deal = deal_service.get(session, deal_id, actor=actor, write=True, expected_version=expected_version)
        if deal.amount_from_lines == follow:
            return deal
        changes: dict[str, Any] = {"amount_from_lines": [deal.amount_from_lines, follow]}
        deal.amount_from_lines = follow
        self._sync_amount(session, deal, changes)
        deal_service.touch(session, deal, changes, actor=actor)
        session.flush()
        return deal

    # -- helpers --

    def _pricing(self, session: Session, deal: Deal) -> dict[str, Any]:
        account = session.get(Account, deal.account_id) if deal.account_id else None
        return {"account": account, "currency": deal.currency, "on_date": utcnow().date()}

    def _line(self, session: Session, deal: Deal, line_id: uuid.UUID) -> DealLineItem:
        line = session.get(DealLineItem, line_id, with_for_update=True, populate_existing=True)
        if line is None or line.deal_id != deal.id:
            raise NotFound(f"no line item with id {line_id} on this deal")
        return line

    @staticmethod
    def _describe(line: DealLineItem) -> str:
        text = f"{line.name} × {line.quantity.normalize():f} @ {line.unit_price.normalize():f}"
        if line.discount_percent:
            text += f" −{line.discount_percent.normalize():f} %"
        return text

    def _sync_amount(self, session: Session, deal: Deal, changes: dict[str, Any]) -> None:
        if not deal.amount_from_lines:
            return
        net = self.totals(session, deal, self._lines_of(session, deal.id)).net
        if deal.amount != net:
            changes["amount"] = [deal.amount, net]
            deal.amount = net

    def _after_change(self, session: Session, deal: Deal, actor: Actor, changes: dict[str, Any]) -> None:
        self._sync_amount(session, deal, changes)
        deal_service.touch(session, deal, changes, actor=actor)
        session.flush()


def line_amounts(lines: Sequence[LineFields], rounding: money.Rounding) -> list[Decimal]:
    """Each line's rounded net, as the totals count it."""
    return [money.line_amounts(line, rounding).net for line in money_lines(lines)]


line_item_service = LineItemService()
