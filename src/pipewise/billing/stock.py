"""Lean inventory: locations (one default, "Main"), a level per product and location
(on hand, reserved, available = on hand − reserved) and moves that change what is on
hand, each with its reason, actor and the balance it left.

Every change locks the level row it touches (``FOR UPDATE`` on PostgreSQL; SQLite's one
writer) and checks in the same transaction, so concurrent confirmations never reserve
more than is there. Nothing goes below zero unless the company setting
``allow_negative_stock`` says it may. Available falling below a level's threshold makes
a task for the stock manager (or the admins) and records ``billing.stock_low``."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Role, User
from pipewise.auth.visibility import Actor
from pipewise.billing.access import require_manager
from pipewise.billing.events import StockLow
from pipewise.billing.models import ZERO, StockLevel, StockLocation, StockMove
from pipewise.crm.models import Task
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import dialect_insert
from pipewise.errors import NotFound, ValidationFailed
from pipewise.events import bus
from pipewise.quotes.models import Product
from pipewise.quotes.settings import company_settings

DEFAULT_LOCATION = "Main"
MAX_QUANTITY = Decimal("1e9")


def default_location(session: Session) -> StockLocation:
    row = session.scalar(select(StockLocation).order_by(StockLocation.is_default.desc(), StockLocation.created_at).limit(1))
    if row is not None:
        return row
    session.execute(
        dialect_insert(session)(StockLocation)
        .values(id=uuid7(), name=DEFAULT_LOCATION, is_default=True, created_at=utcnow(), updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return session.scalars(select(StockLocation).where(StockLocation.name == DEFAULT_LOCATION)).one()


def location(session: Session, location_id: uuid.UUID | None) -> StockLocation:
    if location_id is None:
        return default_location(session)
    row = session.get(StockLocation, location_id)
    if row is None:
        raise ValidationFailed.on("location_id", f"no stock location with id {location_id}")
    return row


def locked_levels(session: Session, product_ids: Iterable[uuid.UUID], location_id: uuid.UUID) -> dict[uuid.UUID, StockLevel]:
    """The levels of these products at a location, created when missing, locked until
    commit. Rows are locked in product id order, so two transactions wanting the same
    products never wait for each other in a circle."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    session.execute(
        dialect_insert(session)(StockLevel)
        .values([{"id": uuid7(), "product_id": p, "location_id": location_id, "on_hand": ZERO, "reserved": ZERO,
                  "updated_at": utcnow()} for p in ids])
        .on_conflict_do_nothing(index_elements=["product_id", "location_id"])
    )
    rows = session.scalars(
        select(StockLevel)
        .where(StockLevel.product_id.in_(ids), StockLevel.location_id == location_id)
        .order_by(StockLevel.product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.product_id: row for row in rows}


def negative_allowed(session: Session) -> bool:
    return company_settings(session).allow_negative_stock


@dataclass
class LowStockWatch:
    """What was available before a change, to see whether the change crossed the threshold."""

    level: StockLevel
    before: Decimal

    @classmethod
    def of(cls, level: StockLevel) -> "LowStockWatch":
        return cls(level, level.available)

    def check(self, session: Session, *, actor: Actor | None) -> None:
        level, threshold = self.level, self.level.low_threshold
        if threshold is None or not (self.before >= threshold > level.available):
            return
        product = session.get(Product, level.product_id)
        place = session.get(StockLocation, level.location_id)
        if product is None or place is None:
            return
        task_id = None
        for owner_id in _stock_managers(session, level):
            task = Task(
                id=uuid7(),
                title=f"Low stock: {product.name} ({product.sku}) at {place.name}: {level.available.normalize():f} available",
                notes=f"Below the threshold of {threshold.normalize():f}. Reorder or adjust the threshold.",
                priority="high",
                owner_id=owner_id,
                related_type="product",
                related_id=product.id,
            )
            session.add(task)
            task_id = task_id or task.id
        bus.record(session, StockLow(
            record_id=product.id, actor_id=actor.id if actor else None, location_id=place.id, sku=product.sku,
            available=level.available, threshold=threshold, task_id=task_id,
        ))


def _stock_managers(session: Session, level: StockLevel) -> list[uuid.UUID]:
    if level.manager_id is not None:
        manager = session.get(User, level.manager_id)
        if manager is not None and manager.is_active:
            return [manager.id]
    return list(session.scalars(select(User.id).where(User.role == Role.admin, User.is_active.is_(True)).order_by(User.created_at)))


def apply_move(
    session: Session, level: StockLevel, *, kind: str, quantity: Decimal, reason: str | None, actor: Actor | None,
    order_id: uuid.UUID | None = None, delivery_note_id: uuid.UUID | None = None, field: str = "quantity",
    release: Decimal = ZERO,
) -> StockMove:
    """Change what is on hand by ``quantity`` (signed) on a locked level, releasing
    ``release`` of its reservation at the same time (a delivery consumes what it took)."""
    watch = LowStockWatch.of(level)
    after = level.on_hand + quantity
    if after < 0 and not negative_allowed(session):
        product = session.get(Product, level.product_id)
        raise ValidationFailed.on(field, f"only {level.on_hand.normalize():f} of {product.sku if product else 'the product'} "
                                         "on hand; stock cannot go below zero")
    level.on_hand = after
    level.reserved = max(level.reserved - release, ZERO)
    move = StockMove(product_id=level.product_id, location_id=level.location_id, kind=kind, quantity=quantity,
                     balance_after=after, reason=reason, actor_id=actor.id if actor else None, order_id=order_id,
                     delivery_note_id=delivery_note_id)
    session.add(move)
    watch.check(session, actor=actor)
    return move


def reserve(session: Session, level: StockLevel, quantity: Decimal, *, actor: Actor | None) -> None:
    watch = LowStockWatch.of(level)
    level.reserved += quantity
    watch.check(session, actor=actor)


def release(level: StockLevel, quantity: Decimal) -> None:
    level.reserved = max(level.reserved - quantity, ZERO)


def _stocked_product(session: Session, product_id: uuid.UUID) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise ValidationFailed.on("product_id", f"no product with id {product_id}")
    if not product.stocked:
        raise ValidationFailed.on("product_id", f"{product.sku} is not a stocked product")
    return product


def _quantity(value: Decimal, *, signed: bool) -> Decimal:
    if value == 0 or (not signed and value < 0):
        raise ValidationFailed.on("quantity", "must be more than zero" if not signed else "must not be zero")
    if abs(value) >= MAX_QUANTITY:
        raise ValidationFailed.on("quantity", "is too large")
    return value


def receive(
    session: Session, *, product_id: uuid.UUID, quantity: Decimal, reason: str | None, actor: Actor,
    location_id: uuid.UUID | None = None,
) -> StockMove:
    """Goods arrived: on hand goes up."""
    require_manager(actor, "receive stock")
    _quantity(quantity, signed=False)
    _stocked_product(session, product_id)
    place = location(session, location_id)
    level = locked_levels(session, [product_id], place.id)[product_id]
    return apply_move(session, level, kind="receipt", quantity=quantity, reason=reason or "goods received", actor=actor)


def adjust(
    session: Session, *, product_id: uuid.UUID, quantity: Decimal, reason: str, actor: Actor,
    location_id: uuid.UUID | None = None,
) -> StockMove:
    """A correction (count, damage, loss), signed, always with a reason."""
    require_manager(actor, "adjust stock")
    _quantity(quantity, signed=True)
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "say why the stock changes")
    _stocked_product(session, product_id)
    place = location(session, location_id)
    level = locked_levels(session, [product_id], place.id)[product_id]
    return apply_move(session, level, kind="adjustment", quantity=quantity, reason=reason.strip(), actor=actor)


def set_threshold(
    session: Session, *, product_id: uuid.UUID, threshold: Decimal | None, manager_id: uuid.UUID | None, actor: Actor,
    location_id: uuid.UUID | None = None,
) -> StockLevel:
    require_manager(actor, "set stock thresholds")
    if threshold is not None and threshold < 0:
        raise ValidationFailed.on("low_threshold", "must be zero or more")
    if manager_id is not None and session.get(User, manager_id) is None:
        raise ValidationFailed.on("manager_id", f"no user with id {manager_id}")
    _stocked_product(session, product_id)
    place = location(session, location_id)
    level = locked_levels(session, [product_id], place.id)[product_id]
    level.low_threshold, level.manager_id = threshold, manager_id
    return level


@dataclass(frozen=True)
class LevelRow:
    level: StockLevel
    product: Product
    location: StockLocation

    @property
    def low(self) -> bool:
        return self.level.low_threshold is not None and self.level.available < self.level.low_threshold


def levels(session: Session, *, product_id: uuid.UUID | None = None) -> list[LevelRow]:
    stmt = (
        select(StockLevel, Product, StockLocation)
        .join(Product, Product.id == StockLevel.product_id)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .order_by(Product.name, StockLocation.name)
    )
    if product_id is not None:
        stmt = stmt.where(StockLevel.product_id == product_id)
    return [LevelRow(*row) for row in session.execute(stmt)]


def level_of(session: Session, product_id: uuid.UUID, location_id: uuid.UUID | None = None) -> LevelRow:
    rows = [row for row in levels(session, product_id=product_id) if location_id is None or row.location.id == location_id]
    if not rows:
        if session.get(Product, product_id) is None:
            raise NotFound(f"no product with id {product_id}")
        place = session.get(StockLocation, location_id) if location_id else None
        place = place or session.scalar(select(StockLocation).order_by(StockLocation.is_default.desc()).limit(1))
        place = place or StockLocation(id=uuid.UUID(int=0), name=DEFAULT_LOCATION, is_default=True)
        return LevelRow(StockLevel(product_id=product_id, location_id=place.id, on_hand=ZERO, reserved=ZERO),
                        session.get(Product, product_id), place)  # type: ignore[arg-type]
    return rows[0]


def moves(session: Session, *, product_id: uuid.UUID | None = None, limit: int = 100) -> list[tuple[StockMove, Product]]:
    stmt = select(StockMove, Product).join(Product, Product.id == StockMove.product_id)
    if product_id is not None:
        stmt = stmt.where(StockMove.product_id == product_id)
    rows = session.execute(stmt.order_by(StockMove.at.desc(), StockMove.id.desc()).limit(max(1, min(limit, 500))))
    return [(move, product) for move, product in rows]


def product_by_sku(session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with SKU {sku}")
    return product


def stocked_products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.stocked.is_(True), Product.active.is_(True)).order_by(Product.name)))
