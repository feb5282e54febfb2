"""The quotes domain's routes in the authorization matrix (``tests/security/operations.py``
adds them): valid input for each and who may call it."""

from typing import Any

from tests.security.operations import (
    ALLOW, FORBIDDEN, HIDDEN, LONG_PAGE, USERS, Call, Op, admins, bulk_of, js, managers, unique, visible,
)
from tests.security.world import MANAGERS, sees

OWNERS_ONLY = ("unowned",)


def deciders(actor: str, owner: str) -> str:
    """Deciding on a discount: managers and admins who see the quote (the requester, its
    owning rep, never)."""
    if not sees(actor, owner):
        return HIDDEN
    return ALLOW if actor in MANAGERS else FORBIDDEN


def _line(c: Call) -> dict[str, Any]:
    return {"name": f"Extra {unique(c)}", "unit_price": "3.50", "quantity": "2", "tax_rate": "19"}


def _reference_crud(plural: str, kind: str, create: Any, field: str, value: Any) -> dict[tuple[str, str], Op]:
    base, item = f"/api/v1/{plural}", f"/api/v1/{plural}/{{record_id}}"
    target = "book_and_product" if plural == "price-book-entries" else None
    return {
        ("GET", base): Op(body=LONG_PAGE),
        ("POST", base): Op(target=target, owners=OWNERS_ONLY if target else None, rule=managers, body=create),
        ("POST", base + "/bulk"): Op(target=target, owners=OWNERS_ONLY if target else None, rule=managers,
                                     body=bulk_of(create), ok=(200,)),
        ("GET", item): Op(target=kind, owners=OWNERS_ONLY),
        ("GET", item + "/history"): Op(target=kind, owners=OWNERS_ONLY),
        ("PATCH", item): Op(target=kind, owners=OWNERS_ONLY, rule=managers, body=lambda c: js({field: value(c)})),
        ("DELETE", item): Op(target=kind, owners=OWNERS_ONLY, rule=managers),
    }


def _new_quote(c: Call) -> dict[str, Any]:
    return js({"deal_id": c["deal_id"], "title": f"Offer {unique(c)}"})


def quote_operations() -> dict[tuple[str, str], Op]:
    ops: dict[tuple[str, str], Op] = {}
    ops.update(_reference_crud("price-books", "price_book",
                               lambda c: js({"name": f"Book {unique(c)}", "currency": "EUR", "segment": "Retail"}),
                               "name", lambda c: f"Renamed {unique(c)}"))
    ops.update(_reference_crud("price-book-entries", "price_book_entry",
                               lambda c: js({"price_book_id": c["price_book_id"], "product_id": c["product_id"],
                                             "min_quantity": "10", "unit_price": "4.25"}),
                               "unit_price", lambda c: "5.75"))
    ops.update(_reference_crud("quote-templates", "quote_template",
                               lambda c: js({"name": f"Template {unique(c)}", "terms": "Net 30"}),
                               "terms", lambda c: f"Net {unique(c)}"))
    item = "/api/v1/quotes/{record_id}"
    ops.update({
        ("GET", "/api/v1/quotes"): Op(lists="quote", body=LONG_PAGE),
        ("POST", "/api/v1/quotes"): Op(target="deal", rule=visible, body=_new_quote),
        ("POST", "/api/v1/quotes/bulk"): Op(target="deal", rule=visible, body=bulk_of(_new_quote), ok=(200,)),
        ("GET", item): Op(target="quote", rule=visible),
        ("GET", item + "/history"): Op(target="quote", rule=visible),
        ("PATCH", item): Op(target="quote", rule=visible, body=lambda c: js({"title": f"Changed {unique(c)}"})),
        ("DELETE", item): Op(target="quote", rule=visible),
        # -- the catalogue --
        ("GET", "/api/v1/prices"): Op(target="product", body=lambda c: {"params": {
            "product_id": c["product_id"], "currency": "USD", "quantity": "3"}}),
        # -- line items on deals --
        ("GET", "/api/v1/deals/{deal_id}/line-items"): Op(target="deal_line", rule=visible),
        ("POST", "/api/v1/deals/{deal_id}/line-items"): Op(target="deal", rule=visible, body=lambda c: js(_line(c))),
        ("PATCH", "/api/v1/deals/{deal_id}/line-items/{line_id}"): Op(
            target="deal_line", rule=visible, body=lambda c: js({"quantity": "5", "discount_percent": "2.5"})),
        ("DELETE", "/api/v1/deals/{deal_id}/line-items/{line_id}"): Op(target="deal_line", rule=visible),
        ("PUT", "/api/v1/deals/{deal_id}/line-items/order"): Op(
            target="deal_line", rule=visible, body=lambda c: js({"line_ids": [c["line_id"]]})),
        ("PUT", "/api/v1/deals/{deal_id}/amount-mode"): Op(
            target="deal_line", rule=visible, body=lambda c: js({"amount_from_lines": True})),
        # -- quotes --
        ("GET", "/api/v1/deals/{deal_id}/quotes"): Op(target="quote", rule=visible),
        ("GET", "/api/v1/quotes/{quote_id}/lines"): Op(target="quote", rule=visible),
        ("PUT", "/api/v1/quotes/{quote_id}/lines"): Op(target="quote", rule=visible, body=lambda c: js({"lines": [_line(c)]})),
        ("POST", "/api/v1/quotes/{quote_id}/revise"): Op(target="quote", rule=visible),
        ("POST", "/api/v1/quotes/totals"): Op(target="deal", rule=visible, body=lambda c: js(
            {"deal_id": c["deal_id"], "lines": [_line(c), {**_line(c), "optional": True, "selected": False}]})),
        ("GET", "/api/v1/quotes/{quote_id}/approvals"): Op(target="quote_approval", rule=visible, owners=USERS),
        # -- approvals and settings --
        ("GET", "/api/v1/quote-approvals"): Op(),
        ("POST", "/api/v1/quote-approvals/{approval_id}/decision"): Op(
            target="quote_approval", rule=deciders, owners=USERS, body=lambda c: js({"decision": "approved", "comment": "fine"})),
        ("GET", "/api/v1/company-settings"): Op(),
        ("PATCH", "/api/v1/company-settings"): Op(rule=admins, body=lambda c: js({"name": f"Company {unique(c)}"})),
    })
    return ops
