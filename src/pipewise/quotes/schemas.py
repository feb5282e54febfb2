from decimal import Decimal
from typing import Annotated

from pydantic import Field

from pipewise.schemas import InputModel, VersionedOut, partial


class ProductCreate(InputModel):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] | None = None
    price: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    active: bool = True


ProductUpdate = partial(ProductCreate, "ProductUpdate")


class Product(VersionedOut):
    sku: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    active: bool
