"""A small sales company for the quote tests: two teams (East, West) with a manager and a
rep each, an admin, a pipeline, products and a deal of the East rep."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.quotes.catalogue import product_service


PASSWORD = "correct-horse"
WEB_USERS = ("admin", "east_manager", "east_rep", "west_rep")


@dataclass
class Company:
    factory: Any
    api: Any
    users: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    stages: list[Any] = field(default_factory=list)
    products: dict[str, Any] = field(default_factory=dict)

    def call(self, who: str, method: str, url: str, **kwargs: Any) -> Any:
        return self.api.request(method, f"/api/v1{url}", headers={**self.headers[who], **kwargs.pop("headers", {})},
                                **kwargs)

    def deal(self, owner: str = "east_rep", **kw: Any) -> Any:
        deal = self.factory.deal(owner=self.users[owner], stage_id=self.stages[0].id, currency="EUR", **kw)
        self.factory.session.commit()
        return deal


@pytest.fixture
def web_users() -> tuple[str, ...]:
    """Who logs in to pages and so needs a password (hashing one takes long): nobody here;
    the page tests override it."""
    return ()


@pytest.fixture
def company(factory: Any, api: Any, session: Any, web_users: tuple[str, ...]) -> Company:
    east, west = factory.team("East"), factory.team("West")
    c = Company(factory, api)
    c.users["admin"] = factory.user(role="admin", password=PASSWORD if "admin" in web_users else None)
    for name, role, team in (("east_manager", "manager", east), ("east_rep", "rep", east),
                             ("west_rep", "rep", west), ("west_manager", "manager", west)):
        c.users[name] = factory.user(role=role, team=team, password=PASSWORD if name in web_users else None)
    east.manager_id, west.manager_id = c.users["east_manager"].id, c.users["west_manager"].id
    session.flush()
    _pipeline, c.stages = factory.pipeline()
    for sku, price, rate in (("SEAT", "100.00", "19"), ("SUPPORT", "5.63", "22"), ("SETUP", "1500.00", "19")):
        c.products[sku] = product_service.create(session, actor=SYSTEM_ACTOR, data={
            "sku": sku, "name": sku.title(), "price": Decimal(price), "currency": "EUR", "tax_rate": Decimal(rate)})
    session.commit()
    c.headers = {name: factory.headers(user) for name, user in c.users.items()}
    return c
