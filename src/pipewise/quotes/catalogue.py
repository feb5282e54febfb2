"""The catalogue: products, price books (the default one, one per segment, one per account)
with volume tiers, quote templates, and the one price resolver every line uses.

Which price a line gets (``price_for``): among the active books in the line's currency that
are valid on the day, the account's own book wins over its segment's (the account's
``industry``), which wins over the default book; within a book the tier with the highest
``min_quantity`` not above the quantity. No book prices the product: its list price, when
the list price is in that currency."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pipewise.crm.models import Account
from pipewise.deals.service import CURRENCY_RE
from pipewise.errors import ErrorCollector, ValidationFailed
from pipewise.quotes.models import PriceBook, PriceBookEntry, Product, QuoteTemplate
from pipewise.records.checks import check_required_text
from pipewise.records.service import RecordService

CENT = Decimal("0.01")
UNIT_PRICE = Decimal("0.0001")
QUANTITY = Decimal("0.0001")
HUNDRED = Decimal(100)


def check_currency(data: dict[str, Any], errors: ErrorCollector) -> None:
    if "currency" in data:
        data["currency"] = str(data["currency"] or "").upper()
        if not CURRENCY_RE.match(data["currency"]):
            errors.add("currency", "must be a three-letter ISO 4217 code such as EUR")


def check_percent(data: dict[str, Any], key: str, errors: ErrorCollector) -> None:
    if key in data:
        value = data[key]
        if value is None or not 0 <= Decimal(value) <= HUNDRED:
            errors.add(key, "must be a percentage between 0 and 100")
        else:
            data[key] = Decimal(value).quantize(UNIT_PRICE)


class ProductService(RecordService[Product]):
    record_type = "product"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        check_required_text(data, "sku", record, errors)
        if "price" in data:
            if data["price"] is None or data["price"] < 0:
                errors.add("price", "must be zero or more")
            else:
                data["price"] = Decimal(data["price"]).quantize(CENT)
        elif record is None:
            errors.add("price", "is required")
        check_currency(data, errors)
        check_percent(data, "tax_rate", errors)
        if "unit" in data:
            data["unit"] = str(data["unit"] or "").upper()
            if not data["unit"].isalnum():
                errors.add("unit", "must be a UN/ECE unit code such as C62 (one), HUR (hour) or KGM (kilogram)")


class PriceBookService(RecordService[PriceBook]):
    record_type = "price_book"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        if record is None and "currency" not in data:
            errors.add("currency", "is required")
        check_currency(data, errors)
        merged = {k: data.get(k, getattr(record, k, None)) for k in ("valid_from", "valid_to", "is_default", "segment",
                                                                       "account_id")}
        if merged["valid_from"] and merged["valid_to"] and merged["valid_from"] > merged["valid_to"]:
            errors.add("valid_to", "must be on or after valid_from")
        if merged["segment"] and merged["account_id"]:
            errors.add("segment", "a book is for one segment or one account, not both")
        if merged["is_default"] and (merged["segment"] or merged["account_id"]):
            errors.add("is_default", "the default book is for everyone: leave segment and account empty")
        if "segment" in data and data["segment"] is not None:
            data["segment"] = data["segment"].strip()
        if data.get("account_id") is not None and RecordService("account").repository(session).get(
            data["account_id"], actor
        ) is None:
            errors.add("account_id", f"no account with id {data['account_id']}")


class PriceBookEntryService(RecordService[PriceBookEntry]):
    record_type = "price_book_entry"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        for key in ("price_book_id", "product_id", "unit_price"):
            if record is None and data.get(key) is None:
                errors.add(key, "is required")
        if data.get("unit_price") is not None:
            if data["unit_price"] < 0:
                errors.add("unit_price", "must be zero or more")
            data["unit_price"] = Decimal(data["unit_price"]).quantize(UNIT_PRICE)
        if "min_quantity" in data:
            if data["min_quantity"] is None or data["min_quantity"] <= 0:
                errors.add("min_quantity", "must be more than zero")
            else:
                data["min_quantity"] = Decimal(data["min_quantity"]).quantize(QUANTITY)
        self._check_unique(session, data, record, errors)

    def _check_unique(self, session: Session, data: dict[str, Any], record: PriceBookEntry | None,
                      errors: ErrorCollector) -> None:
        book = data.get("price_book_id", getattr(record, "price_book_id", None))
        product = data.get("product_id", getattr(record, "product_id", None))
        minimum = data.get("min_quantity", getattr(record, "min_quantity", Decimal(1)))
        if book is None or product is None or minimum is None:
            return
        clash = session.scalar(select(PriceBookEntry.id).where(
            PriceBookEntry.price_book_id == book, PriceBookEntry.product_id == product,
            PriceBookEntry.min_quantity == Decimal(minimum).quantize(QUANTITY),
        ))
        if clash is not None and (record is None or clash != record.id):
            errors.add("min_quantity", "this book already has a tier of this product from that quantity")


class QuoteTemplateService(RecordService[QuoteTemplate]):
    record_type = "quote_template"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        for index, line in enumerate(data.get("lines") or []):
            if session.get(Product, uuid.UUID(str(line["product_id"]))) is None:
                errors.add(f"lines.{index}.product_id", f"no product with id {line['product_id']}")
        if "lines" in data:
            data["lines"] = [
                {"product_id": str(line["product_id"]), "quantity": str(line.get("quantity", 1)),
                 "discount_percent": str(line.get("discount_percent", 0)), "optional": bool(line.get("optional"))}
                for line in data["lines"] or []
            ]


product_service = ProductService()
price_book_service = PriceBookService()
price_book_entry_service = PriceBookEntryService()
quote_template_service = QuoteTemplateService()


# -- the price resolver --

SOURCE_RANK = {"account": 0, "segment": 1, "default": 2}


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    source: str  # account | segment | default | list
    price_book_id: uuid.UUID | None = None
    min_quantity: Decimal | None = None


def _book_source(book: PriceBook, account: Account | None) -> str | None:
    if book.account_id is not None:
        return "account" if account is not None and book.account_id == account.id else None
    if book.segment:
        industry = (account.industry or "").strip().casefold() if account is not None else ""
        return "segment" if industry and book.segment.strip().casefold() == industry else None
    return "default" if book.is_default else None


def price_for(
    session: Session, product: Product, quantity: Decimal, account: Account | None, currency: str, on_date: date,
) -> Price:
    """The unit price of ``quantity`` of ``product`` for ``account`` in ``currency`` on
    ``on_date`` (see the module's docstring). Raises ValidationFailed on ``unit_price``
    when nothing prices the product in that currency."""
    currency = currency.upper()
    scope = [PriceBook.is_default.is_(True), PriceBook.segment.is_not(None)]
    if account is not None:
        scope.append(PriceBook.account_id == account.id)
    rows = session.execute(
        select(PriceBookEntry, PriceBook)
        .join(PriceBook, PriceBook.id == PriceBookEntry.price_book_id)
        .where(
            PriceBookEntry.product_id == product.id,
            PriceBookEntry.min_quantity <= quantity,
            PriceBook.active.is_(True),
            PriceBook.currency == currency,
            or_(PriceBook.valid_from.is_(None), PriceBook.valid_from <= on_date),
            or_(PriceBook.valid_to.is_(None), PriceBook.valid_to >= on_date),
            or_(*scope),
        )
    ).all()
    best: tuple[tuple[int, Decimal, str], Price] | None = None
    for entry, book in rows:
        source = _book_source(book, account)
        if source is None:
            continue
        key = (SOURCE_RANK[source], -entry.min_quantity, book.name)
        if best is None or key < best[0]:
            best = (key, Price(entry.unit_price, source, book.id, entry.min_quantity))
    if best is not None:
        return best[1]
    if product.currency.upper() == currency:
        return Price(product.price, "list")
    raise ValidationFailed.on(
        "unit_price", f"no price book prices {product.name} in {currency} and its list price is in {product.currency}: "
        "give a unit price",
    )


def find_product(session: Session, product_id: uuid.UUID, field: str = "product_id") -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise ValidationFailed.on(field, f"no product with id {product_id}")
    return product


def resolve_price(
    session: Session, *, product_id: uuid.UUID, quantity: Decimal, account_id: uuid.UUID | None, currency: str,
    on_date: date, actor: Any,
) -> Price:
    """``price_for`` by ids, for the API: the account must be one the caller sees."""
    product = find_product(session, product_id)
    account = None
    if account_id is not None:
        account = RecordService("account").repository(session).get(account_id, actor)
        if account is None:
            raise ValidationFailed.on("account_id", f"no account with id {account_id}")
    return price_for(session, product, quantity, account, currency, on_date)


def product_by_sku(session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise ValidationFailed.on("sku", f"no product with SKU {sku}")
    return product
