"""Line items on deals, through the HTTP API."""

from decimal import Decimal
from typing import Any

from tests.quotes.conftest import Company


def add(company: Company, deal: Any, who: str = "east_rep", **body: Any) -> Any:
    return company.call(who, "POST", f"/deals/{deal.id}/line-items", json=body)


class TestAddLine:
    def test_price_comes_from_the_product_and_the_amount_follows(self, company: Company) -> None:
        deal = company.deal()
        follow = company.call("east_rep", "PUT", f"/deals/{deal.id}/amount-mode", json={"amount_from_lines": True})
        assert follow.status_code == 200, follow.text
        assert Decimal(follow.json()["amount"]) == 0
        response = add(company, deal, product_id=str(company.products["SEAT"].id), quantity="3", discount_percent="10")
        assert response.status_code == 201, response.text
        line = response.json()
        assert (line["name"], Decimal(line["unit_price"]), Decimal(line["tax_rate"])) == ("Seat", 100, 19)
        assert Decimal(line["net_amount"]) == Decimal("270.00")
        listed = company.call("east_rep", "GET", f"/deals/{deal.id}/line-items").json()
        assert Decimal(listed["amount"]) == Decimal("270.00")
        assert Decimal(listed["totals"]["gross"]) == Decimal("321.30")
        deal_now = company.call("east_rep", "GET", f"/deals/{deal.id}").json()
        assert Decimal(deal_now["amount"]) == Decimal("270.00")

    def test_change_is_in_the_deal_history_and_timeline(self, company: Company) -> None:
        deal = company.deal()
        company.call("east_rep", "PUT", f"/deals/{deal.id}/amount-mode", json={"amount_from_lines": True})
        add(company, deal, product_id=str(company.products["SEAT"].id), quantity="2")
        history = company.call("east_rep", "GET", f"/deals/{deal.id}/history").json()
        latest = history[0]["changes"]
        assert latest["line_added"][1].startswith("Seat × 2")
        assert [Decimal(v) for v in latest["amount"]] == [Decimal(0), Decimal("200.00")]
        timeline = company.call("east_rep", "GET", f"/deals/{deal.id}/timeline").json()
        assert any("line added" in entry["title"] for entry in timeline)

    def test_a_line_without_a_product_needs_a_name_and_a_price(self, company: Company) -> None:
        deal = company.deal()
        response = add(company, deal, quantity="1")
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"name", "unit_price"}

    def test_bad_numbers_are_field_errors(self, company: Company) -> None:
        deal = company.deal()
        for body, field_name in (({"quantity": "0"}, "quantity"), ({"discount_percent": "101"}, "discount_percent"),
                                 ({"unit_price": "-1"}, "unit_price")):
            response = add(company, deal, **{"name": "Custom", "unit_price": "10", **body})
            assert response.status_code == 422, body
            assert field_name in response.text

    def test_unknown_product(self, company: Company) -> None:
        response = add(company, company.deal(), product_id="00000000-0000-0000-0000-000000000001")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "product_id"


class TestEditLine:
    def test_override_price_and_if_match(self, company: Company) -> None:
        deal = company.deal()
        line = add(company, deal, product_id=str(company.products["SEAT"].id)).json()
        url = f"/deals/{deal.id}/line-items/{line['id']}"
        stale = company.call("east_rep", "PATCH", url, json={"unit_price": "80"}, headers={"If-Match": '"7"'})
        assert stale.status_code == 412
        changed = company.call("east_rep", "PATCH", url, json={"unit_price": "80"}, headers={"If-Match": f'"{line["version"]}"'})
        assert changed.status_code == 200, changed.text
        assert Decimal(changed.json()["unit_price"]) == 80
        assert changed.json()["version"] == line["version"] + 1
        again = company.call("east_rep", "PATCH", url, json={"unit_price": "90"}, headers={"If-Match": f'"{line["version"]}"'})
        assert again.status_code == 412

    def test_remove_and_reorder(self, company: Company) -> None:
        deal = company.deal()
        ids = [add(company, deal, name=f"Line {n}", unit_price="1").json()["id"] for n in range(3)]
        order = company.call("east_rep", "PUT", f"/deals/{deal.id}/line-items/order", json={"line_ids": ids[::-1]})
        assert order.status_code == 200, order.text
        assert [i["id"] for i in order.json()["items"]] == ids[::-1]
        bad = company.call("east_rep", "PUT", f"/deals/{deal.id}/line-items/order", json={"line_ids": ids[:2]})
        assert bad.status_code == 422
        removed = company.call("east_rep", "DELETE", f"/deals/{deal.id}/line-items/{ids[0]}")
        assert removed.status_code == 204
        left = company.call("east_rep", "GET", f"/deals/{deal.id}/line-items").json()["items"]
        assert [i["id"] for i in left] == [ids[2], ids[1]]


class TestVisibility:
    def test_another_team_gets_404_for_everything(self, company: Company) -> None:
        deal = company.deal()
        line = add(company, deal, name="Secret", unit_price="5").json()
        base = f"/deals/{deal.id}/line-items"
        for method, url, body in (("GET", base, None), ("POST", base, {"name": "x", "unit_price": "1"}),
                                  ("PATCH", f"{base}/{line['id']}", {"quantity": "2"}),
                                  ("DELETE", f"{base}/{line['id']}", None),
                                  ("PUT", f"{base}/order", {"line_ids": [line["id"]]}),
                                  ("PUT", f"/deals/{deal.id}/amount-mode", {"amount_from_lines": True})):
            for who in ("west_rep", "west_manager"):
                response = company.call(who, method, url, json=body)
                assert response.status_code == 404, (who, method, url)
                assert "Secret" not in response.text
        assert company.call("east_manager", "GET", base).status_code == 200

    def test_a_line_of_another_deal_is_not_found(self, company: Company) -> None:
        mine, other = company.deal(), company.deal()
        line = add(company, other, name="Other", unit_price="5").json()
        response = company.call("east_rep", "PATCH", f"/deals/{mine.id}/line-items/{line['id']}", json={"quantity": "2"})
        assert response.status_code == 404


def test_a_line_too_large_for_the_amount_columns_is_refused(company: Company) -> None:
    deal = company.deal()
    response = add(company, deal, name="Everything", quantity="9999999999", unit_price="99999999999999")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "quantity"
    quote = company.call("east_rep", "POST", "/quotes", json={"deal_id": str(deal.id)}).json()
    response = company.call("east_rep", "PUT", f"/quotes/{quote['id']}/lines", json={"lines": [
        {"name": "Everything", "quantity": "9999999999", "unit_price": "99999999999999"}]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "lines.0.quantity"
