"""Quotes through the HTTP API: made from a deal or a template, numbered, priced with the
company's rounding, frozen once sent, revised, invisible to another team."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.session import get_sessionmaker
from pipewise.quotes.service import quote_service
from tests.quotes.conftest import Company


def deal_with_lines(company: Company, owner: str = "east_rep") -> Any:
    deal = company.deal(owner)
    for sku, quantity in (("SEAT", "4"), ("SUPPORT", "4")):
        response = company.call(owner, "POST", f"/deals/{deal.id}/line-items",
                                json={"product_id": str(company.products[sku].id), "quantity": quantity})
        assert response.status_code == 201, response.text
    return deal


def new_quote(company: Company, deal: Any, who: str = "east_rep", **body: Any) -> Any:
    response = company.call(who, "POST", "/quotes", json={"deal_id": str(deal.id), **body})
    assert response.status_code == 201, response.text
    return response.json()


def mark_sent(quote_id: str) -> None:
    """What sending does (another part of quotes): the quote becomes sent."""
    with get_sessionmaker()() as session:
        quote = quote_service.get(session, uuid.UUID(quote_id), actor=SYSTEM_ACTOR)
        quote_service.write(session, quote, {"status": "sent"}, actor=SYSTEM_ACTOR)
        session.commit()


class TestCreate:
    def test_from_the_deal_lines_with_number_validity_and_totals(self, company: Company) -> None:
        deal = deal_with_lines(company)
        quote = new_quote(company, deal)
        year = date.today().year
        assert quote["number"] == f"Q-{year}-00001" and quote["revision"] == 1 and quote["status"] == "draft"
        assert quote["owner_id"] == str(company.users["east_rep"].id)
        assert quote["valid_until"] == (date.today() + timedelta(days=30)).isoformat()
        # 4 × 100.00 at 19 % and 4 × 5.63 at 22 %: 400.00 + 76.00, 22.52 + 4.95 (4.9544)
        assert Decimal(quote["net_total"]) == Decimal("422.52")
        assert Decimal(quote["tax_total"]) == Decimal("80.95")
        assert Decimal(quote["gross_total"]) == Decimal("503.47")
        full = company.call("east_rep", "GET", f"/quotes/{quote['id']}/lines").json()
        assert [line["name"] for line in full["lines"]] == ["Seat", "Support"]
        second = new_quote(company, deal)
        assert second["number"] == f"Q-{year}-00002"

    def test_from_a_template_with_an_optional_line(self, company: Company) -> None:
        template = company.call("admin", "POST", "/quote-templates", json={
            "name": "Starter", "terms": "Net 14", "valid_days": 14,
            "lines": [{"product_id": str(company.products["SEAT"].id), "quantity": "10"},
                      {"product_id": str(company.products["SETUP"].id), "optional": True}]}).json()
        quote = new_quote(company, company.deal(), template_id=template["id"])
        assert quote["terms"] == "Net 14"
        assert quote["valid_until"] == (date.today() + timedelta(days=14)).isoformat()
        assert Decimal(quote["net_total"]) == Decimal("1000.00")  # the optional setup is not ticked
        lines = company.call("east_rep", "GET", f"/quotes/{quote['id']}/lines").json()["lines"]
        assert [(line["optional"], line["selected"]) for line in lines] == [(False, True), (True, False)]

    def test_company_rounding_is_kept_on_the_quote(self, company: Company) -> None:
        company.call("admin", "PATCH", "/company-settings", json={"tax_mode": "on_totals", "rounding_mode": "half_even"})
        deal = deal_with_lines(company)
        quote = new_quote(company, deal)
        assert (quote["tax_mode"], quote["rounding_mode"]) == ("on_totals", "half_even")
        assert Decimal(quote["tax_total"]) == Decimal("80.95")  # 400.00 × 19 % + 22.52 × 22 % (4.9544), per rate
        company.call("admin", "PATCH", "/company-settings", json={"tax_mode": "per_line"})
        again = company.call("east_rep", "GET", f"/quotes/{quote['id']}").json()
        assert again["tax_mode"] == "on_totals"

    def test_a_deal_of_another_team_is_no_deal(self, company: Company) -> None:
        deal = company.deal("east_rep")
        response = company.call("west_rep", "POST", "/quotes", json={"deal_id": str(deal.id)})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "deal_id"


class TestEditAndRevise:
    def test_lines_replace_and_totals_follow(self, company: Company) -> None:
        quote = new_quote(company, deal_with_lines(company))
        response = company.call("east_rep", "PUT", f"/quotes/{quote['id']}/lines", headers={"If-Match": f'"{quote["version"]}"'},
                                json={"lines": [{"name": "Consulting", "quantity": "3", "unit_price": "1234.565",
                                                 "tax_rate": "19", "discount_percent": "5"}]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert Decimal(body["net_total"]) == Decimal("3518.51")  # 3703.695 − 5 % = 3518.51025
        assert Decimal(body["lines"][0]["net_amount"]) == Decimal("3518.51")
        stale = company.call("east_rep", "PUT", f"/quotes/{quote['id']}/lines", headers={"If-Match": f'"{quote["version"]}"'},
                             json={"lines": []})
        assert stale.status_code == 412

    def test_a_sent_quote_is_frozen_and_revise_makes_the_next(self, company: Company) -> None:
        quote = new_quote(company, deal_with_lines(company))
        mark_sent(quote["id"])
        for method, url, body in (("PUT", f"/quotes/{quote['id']}/lines", {"lines": []}),
                                  ("PATCH", f"/quotes/{quote['id']}", {"title": "Changed"}),
                                  ("DELETE", f"/quotes/{quote['id']}", None)):
            assert company.call("east_rep", method, url, json=body).status_code == 409, (method, url)
        revised = company.call("east_rep", "POST", f"/quotes/{quote['id']}/revise")
        assert revised.status_code == 201, revised.text
        new = revised.json()
        assert (new["number"], new["revision"], new["status"], new["previous_id"]) == (
            quote["number"], 2, "draft", quote["id"])
        assert len(new["lines"]) == 2 and new["gross_total"] == quote["gross_total"]
        old = company.call("east_rep", "GET", f"/quotes/{quote['id']}").json()
        assert old["status"] == "superseded"
        assert company.call("east_rep", "POST", f"/quotes/{quote['id']}/revise").status_code == 409
        edited = company.call("east_rep", "PATCH", f"/quotes/{new['id']}", json={"title": "Second try"})
        assert edited.status_code == 200

    def test_preview_totals_store_nothing(self, company: Company) -> None:
        deal = company.deal()
        response = company.call("east_rep", "POST", "/quotes/totals", json={"deal_id": str(deal.id), "lines": [
            {"product_id": str(company.products["SUPPORT"].id), "quantity": "4"},
            {"name": "Extra", "unit_price": "10", "optional": True, "selected": False}]})
        assert response.status_code == 200, response.text
        totals = response.json()
        assert (Decimal(totals["net"]), Decimal(totals["tax"]), Decimal(totals["gross"])) == (
            Decimal("22.52"), Decimal("4.95"), Decimal("27.47"))
        assert company.call("west_rep", "POST", "/quotes/totals", json={"deal_id": str(deal.id), "lines": []}).status_code == 404


class TestVisibility:
    def test_quotes_of_another_team_are_invisible(self, company: Company) -> None:
        quote = new_quote(company, deal_with_lines(company))
        listed = company.call("west_rep", "GET", "/quotes").json()["items"]
        assert quote["id"] not in {q["id"] for q in listed}
        assert quote["id"] in {q["id"] for q in company.call("east_manager", "GET", "/quotes").json()["items"]}
        for method, url, body in (("GET", f"/quotes/{quote['id']}", None), ("GET", f"/quotes/{quote['id']}/lines", None),
                                  ("PUT", f"/quotes/{quote['id']}/lines", {"lines": []}),
                                  ("POST", f"/quotes/{quote['id']}/revise", None),
                                  ("GET", f"/quotes/{quote['id']}/approvals", None),
                                  ("GET", f"/deals/{quote['deal_id']}/quotes", None)):
            response = company.call("west_rep", method, url, json=body)
            assert response.status_code == 404, (method, url, response.text)
            assert quote["number"] not in response.text
