"""Records of the quotes domain for the security tests' world (``tests/security/world.py``
adds these makers): each fresh, marked, owned by the East rep, the West rep or nobody."""

from decimal import Decimal
from typing import Any

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.quotes.catalogue import price_book_entry_service, price_book_service, product_service, quote_template_service
from pipewise.quotes.line_items import line_item_service
from pipewise.quotes.service import quote_service


def _deal(world: Any, owner: str) -> Any:
    word = world.marker(owner)
    deal = world.factory.deal(owner=world.owner_user(owner), name=f"Deal {word}", stage_id=world.shared["stages"][0].id)
    world.mark(owner, deal.id, word)
    return deal


def _book(world: Any) -> Any:
    word = world.marker("unowned")
    book = price_book_service.create(world.session, data={"name": f"Book {word}", "currency": "USD"}, actor=SYSTEM_ACTOR)
    world.session.flush()
    return book


def _product(world: Any) -> Any:
    word = world.marker("unowned")
    product = product_service.create(world.session, data={"sku": word, "name": f"Kit {word}", "price": Decimal("7")},
                                     actor=SYSTEM_ACTOR)
    world.session.flush()
    return product


def price_book(world: Any, owner: str) -> dict[str, Any]:
    book = _book(world)
    return {"record_id": book.id, "price_book_id": book.id}


def book_and_product(world: Any, owner: str) -> dict[str, Any]:
    return {"price_book_id": _book(world).id, "product_id": _product(world).id}


def price_book_entry(world: Any, owner: str) -> dict[str, Any]:
    refs = book_and_product(world, owner)
    entry = price_book_entry_service.create(world.session, data={**refs, "unit_price": Decimal("6.5")}, actor=SYSTEM_ACTOR)
    world.session.flush()
    return {"record_id": entry.id, **refs}


def quote_template(world: Any, owner: str) -> dict[str, Any]:
    word = world.marker("unowned")
    template = quote_template_service.create(world.session, data={"name": f"Template {word}"}, actor=SYSTEM_ACTOR)
    world.session.flush()
    return {"record_id": template.id, "template_id": template.id}


def deal_line(world: Any, owner: str) -> dict[str, Any]:
    deal = _deal(world, owner)
    word = world.marker(owner)
    line = line_item_service.add(world.session, deal.id, data={"name": f"Line {word}", "unit_price": Decimal("3")},
                                 actor=SYSTEM_ACTOR)
    world.mark(owner, line.id, word)
    return {"deal_id": deal.id, "line_id": line.id}


def quote(world: Any, owner: str) -> dict[str, Any]:
    ids = deal_line(world, owner)
    word = world.marker(owner)
    made = quote_service.create(world.session, data={"deal_id": ids["deal_id"], "title": f"Quote {word}"},
                                actor=world.actor_of(owner))
    world.session.flush()
    world.mark(owner, made.id, word)
    return {**ids, "record_id": made.id, "quote_id": made.id}


def quote_approval(world: Any, owner: str) -> dict[str, Any]:
    """A quote its owner discounted beyond a rep's limit: a pending request."""
    ids = quote(world, owner)
    quote_service.set_lines(world.session, ids["quote_id"], [
        {"name": "Discounted", "unit_price": Decimal("100"), "discount_percent": Decimal("40")}], actor=world.actor_of(owner))
    world.session.flush()
    from pipewise.quotes.approvals import approval_service

    approval = approval_service.of_quote(world.session, ids["quote_id"])[-1]
    world.mark(owner, approval.id)
    return {**ids, "approval_id": approval.id}


MAKERS = {
    "price_book": price_book,
    "price_book_entry": price_book_entry,
    "book_and_product": book_and_product,
    "quote_template": quote_template,
    "deal_line": deal_line,
    "quote": quote,
    "quote_approval": quote_approval,
}
