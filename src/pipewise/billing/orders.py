"""Orders: an accepted quote's selected lines, confirmed against stock, delivered in
parts with numbered delivery notes, or cancelled.

Confirming reserves every stocked line at the default location in the confirming
transaction, with the level rows locked, and refuses the whole order (422, a message per
line) when any line is short, unless the company allows negative stock. A delivery
consumes the reservation and takes the goods off hand (a ``delivery`` move per line);
cancelling releases what is still reserved."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.billing import numbering, stock
from pipewise.billing.access import deal_for, get_visible, require_manager, visible
from pipewise.billing.events import OrderCancelled, OrderConfirmed, OrderCreated, OrderDelivered
from pipewise.billing.lines import apply_totals, copied
from pipewise.billing.models import ZERO, DeliveryNote, DeliveryNoteLine, Order, OrderLine
from pipewise.crm.models import Task
from pipewise.db.base import utcnow, uuid7
from pipewise.deals.models import Deal
from pipewise.errors import Conflict, ErrorCollector, NotFound, ValidationFailed
from pipewise.events import bus
from pipewise.quotes.models import Product, Quote, QuoteLine

ORDER_PREFIX, DELIVERY_PREFIX = "SO", "DN"
# Quotes a manager may turn into an order by hand (the buyer said yes outside the link).
CONVERTIBLE = ("accepted", "sent", "approved")
OPEN = ("confirmed", "partly_delivered")


def get(session: Session, order_id: uuid.UUID, *, actor: Actor, write: bool = False) -> Order:
    return get_visible(session, Order, order_id, actor, write=write, what="order")


def lines_of(session: Session, order_id: uuid.UUID) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position, OrderLine.id)))


def delivery_notes(session: Session, order_id: uuid.UUID) -> list[tuple[DeliveryNote, list[DeliveryNoteLine]]]:
    notes = list(session.scalars(select(DeliveryNote).where(DeliveryNote.order_id == order_id).order_by(DeliveryNote.created_at)))
    by_note: dict[uuid.UUID, list[DeliveryNoteLine]] = {note.id: [] for note in notes}
    if notes:
        for line in session.scalars(select(DeliveryNoteLine).where(DeliveryNoteLine.delivery_note_id.in_(by_note))):
            by_note[line.delivery_note_id].append(line)
    return [(note, by_note[note.id]) for note in notes]


def list_orders(
    session: Session, *, actor: Actor, status: str | None = None, deal_id: uuid.UUID | None = None, limit: int = 100,
) -> list[Order]:
    stmt = visible(select(Order), Order.deal_id, actor)
    if status:
        stmt = stmt.where(Order.status == status)
    if deal_id:
        stmt = stmt.where(Order.deal_id == deal_id)
    return list(session.scalars(stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(max(1, min(limit, 500)))))


def order_for_quote(session: Session, quote_id: uuid.UUID) -> Order | None:
    return session.scalar(select(Order).where(Order.quote_id == quote_id))


def from_quote(session: Session, quote_id: uuid.UUID, *, actor: Actor, by_hand: bool = True) -> tuple[Order, bool]:
    """The order of a quote, made on the first call (the acceptance handler, or a manager
    converting by hand); returns it and whether it is new."""
    quote = session.get(Quote, quote_id)
    try:
        if quote is None:
            raise NotFound("")
        deal_for(session, quote.deal_id, actor, write=by_hand)  # a quote is seen by who sees its deal
    except NotFound:
        raise NotFound(f"no quote with id {quote_id}") from None
    if by_hand:
        require_manager(actor, "convert a quote into an order")
    existing = order_for_quote(session, quote.id)
    if existing is not None:
        return existing, False
    if quote.status not in (CONVERTIBLE if by_hand else ("accepted",)):
        raise Conflict(f"a quote that is {quote.status} cannot become an order")
    lines = list(session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id, QuoteLine.selected.is_(True))
                                 .order_by(QuoteLine.position, QuoteLine.id)))
    if not lines:
        raise ValidationFailed.on("quote_id", "the quote has no selected lines to order")
    try:
        with session.begin_nested():
            order = Order(
                number=numbering.take(session, "order", ORDER_PREFIX, utcnow().year), deal_id=quote.deal_id,
                quote_id=quote.id, account_id=quote.account_id, currency=quote.currency, tax_mode=quote.tax_mode,
                rounding_mode=quote.rounding_mode, status="draft",
            )
            session.add(order)
            session.flush()
            order_lines = [OrderLine(order_id=order.id, **copied(line)) for line in lines]
            session.add_all(order_lines)
            apply_totals(order, order_lines)
            session.flush()
    except IntegrityError:  # the acceptance handler and a person at the same moment
        existing = order_for_quote(session, quote.id)
        if existing is None:
            raise
        return existing, False
    bus.record(session, OrderCreated(record_id=order.id, actor_id=actor.id, deal_id=order.deal_id, number=order.number,
                                     quote_id=quote.id, gross_total=order.gross_total, currency=order.currency))
    return order, True


def _stocked(session: Session, lines: Sequence[OrderLine]) -> dict[uuid.UUID, Product]:
    ids = {line.product_id for line in lines if line.product_id is not None}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids), Product.stocked.is_(True)))}


def confirm(session: Session, order_id: uuid.UUID, *, actor: Actor) -> Order:
    order = get(session, order_id, actor=actor, write=True)
    if order.status != "draft":
        raise Conflict(f"the order is {order.status}; only a draft can be confirmed")
    lines = lines_of(session, order.id)
    products = _stocked(session, lines)
    place = stock.default_location(session)
    levels = stock.locked_levels(session, products, place.id)
    wanted: dict[uuid.UUID, Decimal] = {}
    for line in lines:
        if line.product_id in products:
            wanted[line.product_id] = wanted.get(line.product_id, ZERO) + line.quantity
    if not stock.negative_allowed(session):
        errors = ErrorCollector()
        for index, line in enumerate(lines):
            if line.product_id in products and levels[line.product_id].available < wanted[line.product_id]:
                product = products[line.product_id]
                errors.add(f"lines[{index}].quantity", f"{wanted[line.product_id].normalize():f} of {product.sku} wanted, "
                                                       f"only {levels[line.product_id].available.normalize():f} available")
        errors.raise_if_any()
    for line in lines:
        if line.product_id in products:
            stock.reserve(session, levels[line.product_id], line.quantity, actor=actor)
            line.reserved_quantity = line.quantity
    order.status, order.confirmed_at = "confirmed", utcnow()
    session.flush()
    bus.record(session, OrderConfirmed(record_id=order.id, actor_id=actor.id, deal_id=order.deal_id, number=order.number))
    return order


@dataclass(frozen=True)
class DeliveryLine:
    order_line_id: uuid.UUID
    quantity: Decimal


def deliver(
    session: Session, order_id: uuid.UUID, *, actor: Actor, lines: Sequence[DeliveryLine] | None = None,
    note: str | None = None,
) -> DeliveryNote:
    """Ship some or (``lines`` None) all of what is still to deliver, as one delivery note."""
    order = get(session, order_id, actor=actor, write=True)
    if order.status not in OPEN:
        raise Conflict(f"the order is {order.status}; only a confirmed order can be delivered")
    order_lines = {line.id: line for line in lines_of(session, order.id)}
    if lines is None:
        lines = [DeliveryLine(line.id, line.quantity - line.delivered_quantity) for line in order_lines.values()
                 if line.quantity > line.delivered_quantity]
    errors = ErrorCollector()
    for index, item in enumerate(lines):
        line = order_lines.get(item.order_line_id)
        if line is None:
            errors.add(f"lines[{index}].order_line_id", "is not a line of this order")
        elif item.quantity <= 0:
            errors.add(f"lines[{index}].quantity", "must be more than zero")
        elif item.quantity > line.quantity - line.delivered_quantity:
            errors.add(f"lines[{index}].quantity", f"only {(line.quantity - line.delivered_quantity).normalize():f} "
                                                   f"of {line.name} left to deliver")
    if not lines:
        errors.add("lines", "nothing left to deliver")
    errors.raise_if_any()
    place = stock.default_location(session)
    products = _stocked(session, [order_lines[item.order_line_id] for item in lines])
    levels = stock.locked_levels(session, products, place.id)
    delivery = DeliveryNote(number=numbering.take(session, "delivery", DELIVERY_PREFIX, utcnow().year), order_id=order.id,
                            location_id=place.id, actor_id=actor.id, note=note)
    session.add(delivery)
    session.flush()
    for index, item in enumerate(lines):
        line = order_lines[item.order_line_id]
        session.add(DeliveryNoteLine(delivery_note_id=delivery.id, order_line_id=line.id, quantity=item.quantity))
        line.delivered_quantity += item.quantity
        if line.product_id in products:
            consumed = min(item.quantity, line.reserved_quantity)
            line.reserved_quantity -= consumed
            stock.apply_move(session, levels[line.product_id], kind="delivery", quantity=-item.quantity,
                             reason=f"{delivery.number} for {order.number}", actor=actor, order_id=order.id,
                             delivery_note_id=delivery.id, field=f"lines[{index}].quantity", release=consumed)
    done = all(line.delivered_quantity >= line.quantity for line in order_lines.values())
    order.status = "delivered" if done else "partly_delivered"
    session.flush()
    bus.record(session, OrderDelivered(record_id=order.id, actor_id=actor.id, deal_id=order.deal_id, number=order.number,
                                       delivery_note=delivery.number, status=order.status))
    return delivery


def tell_owner_unconfirmed(session: Session, order: Order, refusal: ValidationFailed) -> None:
    """A task for the deal's owner: the accepted quote's order could not reserve its stock."""
    deal = session.get(Deal, order.deal_id)
    session.add(Task(
        id=uuid7(), title=f"Order {order.number} waits for stock: confirm it when the goods are in",
        notes="; ".join(error.message for error in refusal.errors) or refusal.detail, priority="high",
        owner_id=deal.owner_id if deal is not None else None, related_type="deal", related_id=order.deal_id,
    ))


def cancel(session: Session, order_id: uuid.UUID, *, actor: Actor, reason: str | None = None) -> Order:
    order = get(session, order_id, actor=actor, write=True)
    if order.status not in ("draft", *OPEN):
        raise Conflict(f"the order is {order.status} and cannot be cancelled")
    lines = lines_of(session, order.id)
    reserved = [line for line in lines if line.reserved_quantity > 0 and line.product_id is not None]
    if reserved:
        place = stock.default_location(session)
        levels = stock.locked_levels(session, [line.product_id for line in reserved], place.id)  # type: ignore[misc]
        for line in reserved:
            stock.release(levels[line.product_id], line.reserved_quantity)  # type: ignore[index]
            line.reserved_quantity = ZERO
    order.status, order.cancelled_at = "cancelled", utcnow()
    session.flush()
    bus.record(session, OrderCancelled(record_id=order.id, actor_id=actor.id, deal_id=order.deal_id, number=order.number,
                                       reason=reason))
    return order


def by_reference(session: Session, reference: str, *, actor: Actor) -> Order:
    """An order by its number (SO-2026-000001) or id."""
    try:
        return get(session, uuid.UUID(reference), actor=actor)
    except ValueError:
        pass
    found = session.scalar(visible(select(Order).where(Order.number == reference), Order.deal_id, actor))
    if found is None:
        raise NotFound(f"no order numbered {reference}")
    return found
