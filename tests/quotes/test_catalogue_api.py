"""Products, price books, tiers and the price resolver, through the HTTP API."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tests.quotes.conftest import Company


def book(company: Company, **body: Any) -> dict[str, Any]:
    response = company.call("east_manager", "POST", "/price-books", json={"currency": "EUR", **body})
    assert response.status_code == 201, response.text
    return response.json()


def entry(company: Company, book_id: str, sku: str, price: str, minimum: str = "1") -> dict[str, Any]:
    response = company.call("east_manager", "POST", "/price-book-entries", json={
        "price_book_id": book_id, "product_id": str(company.products[sku].id), "unit_price": price, "min_quantity": minimum})
    assert response.status_code == 201, response.text
    return response.json()


def price(company: Company, sku: str = "SEAT", quantity: str = "1", account: Any = None, currency: str = "EUR",
          on: date | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"product_id": str(company.products[sku].id), "quantity": quantity, "currency": currency}
    if account is not None:
        params["account_id"] = str(account.id)
    if on is not None:
        params["on"] = on.isoformat()
    response = company.call("east_rep", "GET", "/prices", params=params)
    assert response.status_code == 200, response.text
    return response.json()


class TestProducts:
    def test_unit_tax_rate_and_stocked(self, company: Company) -> None:
        response = company.call("east_manager", "POST", "/products", json={
            "sku": "BOLT", "name": "Bolt", "price": "0.12", "currency": "EUR", "unit": "kgm", "tax_rate": "7",
            "stocked": True})
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["unit"], Decimal(body["tax_rate"]), body["stocked"]) == ("KGM", 7, True)
        bad = company.call("east_manager", "PATCH", f"/products/{body['id']}", json={"tax_rate": "120"})
        assert bad.status_code == 422
        assert company.call("east_rep", "POST", "/products", json={"sku": "X", "name": "X", "price": "1"}).status_code == 403


class TestPriceBooks:
    def test_reps_read_managers_write(self, company: Company) -> None:
        made = book(company, name="Default 2026", is_default=True)
        assert company.call("east_rep", "GET", f"/price-books/{made['id']}").status_code == 200
        assert company.call("east_rep", "PATCH", f"/price-books/{made['id']}", json={"name": "Mine"}).status_code == 403
        assert company.call("east_rep", "POST", "/price-books", json={"name": "R", "currency": "EUR"}).status_code == 403

    def test_rules_of_a_book(self, company: Company) -> None:
        account = company.factory.account(owner=company.users["east_rep"])
        company.factory.session.commit()
        for body, field_name in (
            ({"name": "A", "valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
            ({"name": "B", "segment": "Retail", "account_id": str(account.id)}, "segment"),
            ({"name": "C", "is_default": True, "segment": "Retail"}, "is_default"),
            ({"name": "D", "currency": "euro"}, "currency"),
        ):
            response = company.call("east_manager", "POST", "/price-books", json={"currency": "EUR", **body})
            assert response.status_code == 422, body
            assert field_name in {e["field"] for e in response.json()["errors"]}, response.text

    def test_a_tier_is_unique_per_book_product_and_quantity(self, company: Company) -> None:
        made = book(company, name="Default", is_default=True)
        entry(company, made["id"], "SEAT", "90", "10")
        again = company.call("east_manager", "POST", "/price-book-entries", json={
            "price_book_id": made["id"], "product_id": str(company.products["SEAT"].id), "unit_price": "80",
            "min_quantity": "10"})
        assert again.status_code == 422 and again.json()["errors"][0]["field"] == "min_quantity"


class TestResolver:
    def test_account_beats_segment_beats_default_beats_list(self, company: Company) -> None:
        retail = company.factory.account(owner=company.users["east_rep"], industry="Retail")
        other = company.factory.account(owner=company.users["east_rep"], industry="Retail")
        company.factory.session.commit()
        listed = price(company, account=retail)
        assert (listed["source"], Decimal(listed["unit_price"])) == ("list", 100)
        default = book(company, name="Default", is_default=True)
        entry(company, default["id"], "SEAT", "95")
        assert (price(company, account=retail)["source"], Decimal(price(company, account=retail)["unit_price"])) == ("default", 95)
        segment = book(company, name="Retail", segment="retail")
        entry(company, segment["id"], "SEAT", "90")
        assert (price(company, account=retail)["source"], Decimal(price(company, account=retail)["unit_price"])) == ("segment", 90)
        own = book(company, name="Retail One", account_id=str(retail.id))
        entry(company, own["id"], "SEAT", "80")
        assert (price(company, account=retail)["source"], Decimal(price(company, account=retail)["unit_price"])) == ("account", 80)
        assert price(company, account=other)["source"] == "segment"
        assert price(company)["source"] == "default"

    def test_the_highest_tier_reached(self, company: Company) -> None:
        default = book(company, name="Default", is_default=True)
        for minimum, unit_price in (("1", "100"), ("10", "90"), ("50", "75")):
            entry(company, default["id"], "SEAT", unit_price, minimum)
        found = {q: Decimal(price(company, quantity=q)["unit_price"]) for q in ("1", "9.5", "10", "49", "50", "1000")}
        assert found == {"1": 100, "9.5": 100, "10": 90, "49": 90, "50": 75, "1000": 75}

    def test_validity_currency_and_inactive_books(self, company: Company) -> None:
        today = date.today()
        old = book(company, name="Old", is_default=True, valid_to=(today - timedelta(days=1)).isoformat())
        entry(company, old["id"], "SEAT", "50")
        later = book(company, name="Later", is_default=True, valid_from=(today + timedelta(days=10)).isoformat())
        entry(company, later["id"], "SEAT", "60")
        off = book(company, name="Off", is_default=True, active=False)
        entry(company, off["id"], "SEAT", "40")
        assert price(company)["source"] == "list"
        assert Decimal(price(company, on=today + timedelta(days=11))["unit_price"]) == 60
        usd = company.call("east_rep", "GET", "/prices", params={"product_id": str(company.products["SEAT"].id),
                                                                 "currency": "USD"})
        assert usd.status_code == 422 and usd.json()["errors"][0]["field"] == "unit_price"

    def test_a_line_is_priced_from_the_book(self, company: Company) -> None:
        default = book(company, name="Default", is_default=True)
        entry(company, default["id"], "SEAT", "90", "10")
        deal = company.deal()
        line = company.call("east_rep", "POST", f"/deals/{deal.id}/line-items", json={
            "product_id": str(company.products["SEAT"].id), "quantity": "12"}).json()
        assert Decimal(line["unit_price"]) == 90
        changed = company.call("east_rep", "PATCH", f"/deals/{deal.id}/line-items/{line['id']}", json={"quantity": "2"}).json()
        assert Decimal(changed["unit_price"]) == 100  # below the tier: the list price again

    def test_an_account_of_another_team_is_no_account(self, company: Company) -> None:
        account = company.factory.account(owner=company.users["west_rep"])
        company.factory.session.commit()
        response = company.call("east_rep", "GET", "/prices", params={
            "product_id": str(company.products["SEAT"].id), "currency": "EUR", "account_id": str(account.id)})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "account_id"


def test_a_price_typed_by_hand_survives_a_new_quantity(company: Company) -> None:
    default = book(company, name="Default", is_default=True)
    entry(company, default["id"], "SEAT", "90", "10")
    deal = company.deal()
    line = company.call("east_rep", "POST", f"/deals/{deal.id}/line-items", json={
        "product_id": str(company.products["SEAT"].id), "quantity": "2", "unit_price": "77"}).json()
    changed = company.call("east_rep", "PATCH", f"/deals/{deal.id}/line-items/{line['id']}", json={"quantity": "12"}).json()
    assert Decimal(changed["unit_price"]) == 77
