"""The catalogue beyond its CRUD routes: which price a product gets."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.db.base import utcnow
from pipewise.quotes import schemas
from pipewise.quotes.catalogue import resolve_price

router = api_router(tags=["catalogue"])


@router.get("/prices", response_model=schemas.ResolvedPrice, summary="The price of a product for an account")
def price(
    session: DbSession,
    actor: CurrentActor,
    product_id: uuid.UUID,
    currency: Annotated[str, Query(min_length=3, max_length=3)],
    quantity: Annotated[Decimal, Query(gt=0, max_digits=14, decimal_places=4)] = Decimal(1),
    account_id: uuid.UUID | None = None,
    on: date | None = None,
) -> Any:
    """The account's price book wins over its segment's (the account's industry), which wins
    over the default book; within a book the highest volume tier the quantity reaches; no
    book: the product's list price in that currency."""
    found = resolve_price(session, product_id=product_id, quantity=quantity, account_id=account_id,
                          currency=currency, on_date=on or utcnow().date(), actor=actor)
    return schemas.ResolvedPrice(
        product_id=product_id, quantity=quantity, currency=currency.upper(), unit_price=found.unit_price,
        source=found.source, price_book_id=found.price_book_id, min_quantity=found.min_quantity,  # type: ignore[arg-type]
    )
