"""Records of billing for the authorization matrix (``tests/security``): orders and
invoices on a deal of the given owner, and a stocked product. Each is marked, so a
response that shows one to someone who may not see its deal is a leak."""

from collections.abc import Callable

from typing import Any

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing import invoices, orders
from tests.billing import builders


def _deal(world: Any, owner: str) -> Any:
    word = world.marker(owner)
    deal = world.factory.deal(owner=world.owner_user(owner), name=f"Deal {word}", currency="EUR",
                              stage_id=world.shared["stages"][0].id)
    world.mark(owner, deal.id, word)
    return deal


def _quote(world: Any, owner: str) -> dict[str, Any]:
    deal = _deal(world, owner)
    quote = builders.quote(world.session, deal, [{"product": builders.product(world.session, on_hand=5), "quantity": 1}])
    world.mark(owner, quote.id)
    return {"quote_id": quote.id, "deal_id": deal.id}


def _order(world: Any, owner: str, *, confirmed: bool = False) -> dict[str, Any]:
    ids = _quote(world, owner)
    order, _new = orders.from_quote(world.session, ids["quote_id"], actor=SYSTEM_ACTOR)
    if confirmed:
        orders.confirm(world.session, order.id, actor=SYSTEM_ACTOR)
    world.mark(owner, order.id, order.number)
    return {**ids, "order_id": order.id, "record_id": order.id}


def _invoice(world: Any, owner: str, *, posted: bool = False) -> dict[str, Any]:
    ids = _order(world, owner, confirmed=True)
    invoice = invoices.from_order(world.session, ids["order_id"], actor=SYSTEM_ACTOR)
    if posted:
        invoices.post(world.session, invoice.id, actor=SYSTEM_ACTOR)
    world.mark(owner, invoice.id, invoice.number)
    return {**ids, "invoice_id": invoice.id, "record_id": invoice.id, "kind": "pdf"}


def _deal_with_lines(world: Any, owner: str) -> dict[str, Any]:
    deal = _deal(world, owner)
    builders.deal_line(world.session, deal, builders.product(world.session, stocked=False), "2", "50.00")
    return {"deal_id": deal.id}


def _stocked_product(world: Any, owner: str) -> dict[str, Any]:
    product = builders.product(world.session, on_hand=5)
    return {"product_id": product.id, "record_id": product.id}


MAKERS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "accepted_quote": _quote,
    "order": _order,
    "confirmed_order": lambda world, owner: _order(world, owner, confirmed=True),
    "invoice": _invoice,
    "posted_invoice": lambda world, owner: _invoice(world, owner, posted=True),
    "deal_with_lines": _deal_with_lines,
    "stocked_product": _stocked_product,
}

