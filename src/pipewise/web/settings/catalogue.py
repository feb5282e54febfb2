"""Settings › Products and price books: the catalogue quotes draw from. A product has a
list price; a price book gives other prices (for a period, a segment or one account,
from a quantity on). Saved through the quotes catalogue's services."""

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.errors import FieldError, ValidationFailed
from pipewise.quotes import schemas as quote_schemas
from pipewise.quotes.catalogue import price_book_entry_service, price_book_service, product_service
from pipewise.quotes.models import PriceBook
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormState, parse_uuid, to_state
from pipewise.web.settings.common import require_admin, schema_checked, sections_for

router = web_router()

PRODUCT_FIELDS = ("sku", "name", "price", "currency", "unit", "tax_rate")
BOOK_FIELDS = ("name", "currency", "valid_from", "valid_to", "segment")
ENTRY_FIELDS = ("product_id", "min_quantity", "unit_price")
LIMIT = ListQuery(sort="name", limit=1000)


def _typed(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _write(session: Session, schema: type[BaseModel], typed: dict[str, str], save: Callable[[dict[str, Any]], Any],
           *, optional: tuple[str, ...] = (), extra: dict[str, Any] | None = None) -> list[FieldError]:
    """Check ``typed`` against the API's schema, then save it in a savepoint: the errors, or none."""
    data, errors = schema_checked(schema, typed, optional=optional, extra=extra)
    if errors:
        return errors
    try:
        with session.begin_nested():
            save(data)
            session.flush()
    except ValidationFailed as exc:
        return exc.errors or [FieldError("name", exc.detail)]
    return []


# -- products --


def _products_page(request: Request, session: Session, me: WebUser, new: FormState | None = None,
                   status: int = 200) -> Response:
    context = {"products": product_service.list(session, actor=me.actor, query=LIMIT).items,
               "new": new or FormState(values={"currency": "USD", "unit": "C62", "tax_rate": "0"}),
               "sections": sections_for(me)}
    return render(request, "settings/products.html", context, status_code=status)


@router.get("/settings/products")
def products_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_admin(me)
    return _products_page(request, session, me)


@router.post("/settings/products")
def create_product(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed = _typed(form, PRODUCT_FIELDS)
    extra = {"stocked": form.get("stocked") == "on"}
    errors = _write(session, quote_schemas.ProductCreate, typed,
                    lambda data: product_service.create(session, data=data, actor=me.actor), extra=extra)
    if errors:
        return _products_page(request, session, me, to_state(typed, errors, PRODUCT_FIELDS), 422)
    flash(request, f"Product {typed['name']} added.")
    return redirect("/settings/products")


@router.post("/settings/products/{product_id}/active")
def toggle_product(product_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    """Retire a product from new quotes (quotes that have it keep it), or bring it back."""
    require_admin(me)
    product = product_service.get(session, product_id, actor=me.actor, write=True)
    product_service.update(session, product, data={"active": not product.active}, actor=me.actor)
    flash(request, f"{product.name} is {'offered again' if product.active else 'no longer offered'}.")
    return redirect("/settings/products")


# -- price books --


def _books_page(request: Request, session: Session, me: WebUser, book_param: str | None = None, *,
                new_book: FormState | None = None, new_entry: FormState | None = None, status: int = 200) -> Response:
    books = price_book_service.list(session, actor=me.actor, query=LIMIT).items
    wanted = parse_uuid(book_param)
    book = next((b for b in books if b.id == wanted), books[0] if books else None)
    entries = []
    if book is not None:
        query = ListQuery(filter={"field": "price_book_id", "op": "eq", "value": str(book.id)}, sort="min_quantity", limit=1000)
        entries = price_book_entry_service.list(session, actor=me.actor, query=query).items
    products = product_service.list(session, actor=me.actor, query=LIMIT).items
    context = {"books": books, "book": book, "entries": entries, "products": products,
               "product_names": {p.id: f"{p.name} ({p.sku})" for p in products},
               "new_book": new_book or FormState(values={"currency": "USD"}),
               "new_entry": new_entry or FormState(values={"min_quantity": "1"}), "sections": sections_for(me)}
    return render(request, "settings/price_books.html", context, status_code=status)


@router.get("/settings/price-books")
def books_page(request: Request, session: DbSession, me: CurrentUser, book: str | None = None) -> Response:
    require_admin(me)
    return _books_page(request, session, me, book)


@router.post("/settings/price-books")
def create_book(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    typed = _typed(form, BOOK_FIELDS)
    created: list[PriceBook] = []
    errors = _write(session, quote_schemas.PriceBookCreate, typed,
                    lambda data: created.append(price_book_service.create(session, data=data, actor=me.actor)),
                    optional=("valid_from", "valid_to", "segment"), extra={"is_default": form.get("is_default") == "on"})
    if errors:
        return _books_page(request, session, me, new_book=to_state(typed, errors, BOOK_FIELDS), status=422)
    flash(request, f"Price book {created[0].name} added; now give it its prices.")
    return redirect(f"/settings/price-books?book={created[0].id}")


@router.post("/settings/price-books/{book_id}/entries")
def add_entry(book_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    require_admin(me)
    book = price_book_service.get(session, book_id, actor=me.actor)
    typed = _typed(form, ENTRY_FIELDS)
    errors = _write(session, quote_schemas.PriceBookEntryCreate, typed,
                    lambda data: price_book_entry_service.create(session, data=data, actor=me.actor),
                    extra={"price_book_id": book.id})
    if errors:
        state = to_state(typed, errors, ENTRY_FIELDS)
        return _books_page(request, session, me, str(book.id), new_entry=state, status=422)
    flash(request, "Price added.")
    return redirect(f"/settings/price-books?book={book.id}")


@router.post("/settings/price-books/{book_id}/entries/{entry_id}/delete")
def delete_entry(book_id: uuid.UUID, entry_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    require_admin(me)
    entry = price_book_entry_service.get(session, entry_id, actor=me.actor, write=True)
    price_book_entry_service.delete(session, entry, actor=me.actor)
    flash(request, "Price removed.")
    return redirect(f"/settings/price-books?book={book_id}")
