"""The quote pages through HTTP as a browser sends them: the deal's line items section,
the quote builder with its server-computed totals, the approval queue, company settings."""

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.quotes.conftest import PASSWORD, WEB_USERS, Company
from tests.web.conftest import WebClient


@pytest.fixture
def web_users() -> tuple[str, ...]:
    return WEB_USERS


def logged_in(company: Company, who: str) -> WebClient:
    web = WebClient(company.api)
    company.api.cookies.clear()
    assert web.login(company.users[who], PASSWORD).status_code in (302, 303)
    return web


def quote_of(company: Company, who: str = "east_rep") -> tuple[WebClient, Any, str]:
    web = logged_in(company, who)
    deal = company.deal()
    added = web.post(f"/deals/{deal.id}/line-items", {"new-product_id": str(company.products["SEAT"].id),
                                                      "new-quantity": "4"}, htmx=True)
    assert added.status_code == 200, added.text
    created = web.post(f"/deals/{deal.id}/quotes", {}, follow_redirects=False)
    assert created.status_code == 303
    return web, deal, created.headers["location"]


class TestDealSection:
    def test_the_deal_page_loads_the_section_and_lines_add_up(self, company: Company) -> None:
        web = logged_in(company, "east_rep")
        deal = company.deal()
        page = web.get(f"/deals/{deal.id}")
        assert f'hx-get="/deals/{deal.id}/line-items"' in page.text
        response = web.post(f"/deals/{deal.id}/line-items", {"new-product_id": str(company.products["SUPPORT"].id),
                                                             "new-quantity": "4"}, htmx=True)
        assert response.status_code == 200, response.text
        assert 'id="deal-lines"' in response.text and "<html" not in response.text
        assert "22.52 EUR" in response.text and "27.47 EUR" in response.text
        follow = web.post(f"/deals/{deal.id}/amount-mode", {"amount_from_lines": "on"}, htmx=True)
        assert follow.status_code == 200
        assert Decimal(company.call("east_rep", "GET", f"/deals/{deal.id}").json()["amount"]) == Decimal("22.52")

    def test_bad_input_shows_the_problem_and_saves_nothing(self, company: Company) -> None:
        web = logged_in(company, "east_rep")
        deal = company.deal()
        response = web.post(f"/deals/{deal.id}/line-items", {"new-name": "Custom", "new-quantity": "abc"}, htmx=True)
        assert response.status_code == 422
        assert "is not a number" in response.text
        response = web.post(f"/deals/{deal.id}/line-items", {"new-name": "Custom", "new-quantity": "2"}, htmx=True)
        assert response.status_code == 422 and "unit price" in response.text
        assert company.call("east_rep", "GET", f"/deals/{deal.id}/line-items").json()["items"] == []

    def test_another_team_gets_404(self, company: Company) -> None:
        deal = company.deal("east_rep")
        web = logged_in(company, "west_rep")
        assert web.get(f"/deals/{deal.id}/line-items").status_code == 404
        assert web.post(f"/deals/{deal.id}/line-items", {"new-name": "X", "new-unit_price": "1"}).status_code == 404


class TestBuilder:
    def test_preview_totals_come_from_the_server(self, company: Company) -> None:
        web, _deal, url = quote_of(company)
        page = web.get(url)
        assert page.status_code == 200 and 'id="quote-builder"' in page.text
        assert '{% include "quotes/_send.html"' not in page.text
        preview = web.post(f"{url}/preview", {"rows": "2", "l0-product_id": str(company.products["SUPPORT"].id),
                                              "l0-quantity": "4", "l1-name": "Extra", "l1-unit_price": "10",
                                              "l1-optional": "on"}, htmx=True)
        assert preview.status_code == 200
        assert 'data-total="gross"><strong>27.47 EUR' in preview.text
        assert re.search(r'id="net-0" hx-swap-oob="true">22.52 EUR', preview.text)
        broken = web.post(f"{url}/preview", {"rows": "1", "l0-name": "X", "l0-unit_price": "1", "l0-quantity": "-2"},
                          htmx=True)
        assert "quantity" in broken.text and "must be more than zero" in broken.text

    def test_a_discount_above_the_limit_waits_and_a_manager_approves(self, company: Company) -> None:
        web, _deal, url = quote_of(company)
        saved = web.post(f"{url}/lines", {"rows": "1", "l0-product_id": str(company.products["SEAT"].id),
                                          "l0-quantity": "4", "l0-discount_percent": "15"}, follow_redirects=True)
        assert saved.status_code == 200
        assert "pending approval" in saved.text and 'id="approval-pending"' in saved.text
        assert "Approve</button>" not in saved.text  # a rep cannot decide
        manager = logged_in(company, "east_manager")
        queue = manager.get("/quote-approvals")
        approval_id = re.search(r'/quote-approvals/([0-9a-f-]{36})/decision', queue.text).group(1)
        decided = manager.post(f"/quote-approvals/{approval_id}/decision", {"decision": "approved", "comment": "ok",
                                                                            "next": url}, follow_redirects=True)
        assert decided.status_code == 200 and 'id="quote-status">approved' in decided.text

    def test_a_rep_cannot_approve_through_the_page(self, company: Company) -> None:
        web, _deal, url = quote_of(company)
        web.post(f"{url}/lines", {"rows": "1", "l0-name": "Big", "l0-unit_price": "100", "l0-discount_percent": "50"})
        quote_id = url.rsplit("/", 1)[1]
        approval = company.call("east_rep", "GET", f"/quotes/{quote_id}/approvals").json()[0]
        response = web.post(f"/quote-approvals/{approval['id']}/decision", {"decision": "approved"})
        assert response.status_code == 403

    def test_details_and_the_list(self, company: Company) -> None:
        web, _deal, url = quote_of(company)
        saved = web.post(f"{url}/details", {"title": "Seats for 2027", "valid_until": "2027-01-31", "terms": "Net 30"},
                         follow_redirects=True)
        assert "Seats for 2027" in saved.text
        bad = web.post(f"{url}/details", {"title": "", "valid_until": "someday"})
        assert bad.status_code == 422
        listed = web.get("/quotes")
        assert "Seats for 2027" in listed.text
        assert "Seats for 2027" not in logged_in(company, "west_rep").get("/quotes").text


class TestSettingsPage:
    def test_admins_only(self, company: Company) -> None:
        assert logged_in(company, "east_manager").get("/settings/company").status_code == 403
        admin = logged_in(company, "admin")
        assert admin.get("/settings/company").status_code == 200
        bad = admin.post("/settings/company", {"name": "Acme", "currency": "XYZ", "limit_rep": "150"})
        assert bad.status_code == 422
        assert "ISO 4217" in bad.text or "currency" in bad.text
        page = admin.get("/settings/company").text
        assert f'<option value="{company.stages[-2].id}"' in page
        good = admin.post("/settings/company", {"name": "Acme GmbH", "currency": "EUR", "limit_rep": "12",
                                                "accepted_stage_id": str(company.stages[-2].id),
                                                "tax_mode": "on_totals", "rounding_mode": "half_even"},
                          follow_redirects=True)
        assert good.status_code == 200, good.text
        settings = company.call("admin", "GET", "/company-settings").json()
        assert (settings["name"], settings["tax_mode"], settings["discount_limits"]["rep"]) == ("Acme GmbH", "on_totals", "12")
        assert settings["accepted_stage_id"] == str(company.stages[-2].id)


class TestLineEdits:
    def test_edit_move_and_remove_through_the_section(self, company: Company) -> None:
        web = logged_in(company, "east_rep")
        deal = company.deal()
        for name in ("First", "Second"):
            web.post(f"/deals/{deal.id}/line-items", {"new-name": name, "new-unit_price": "10"}, htmx=True)
        lines = company.call("east_rep", "GET", f"/deals/{deal.id}/line-items").json()["items"]
        first = lines[0]
        edited = web.post(f"/deals/{deal.id}/line-items/{first['id']}", {
            "name": "First", "quantity": "3", "unit_price": "12", "shown_price": "10", "discount_percent": "0",
            "version": str(first["version"])}, htmx=True)
        assert edited.status_code == 200 and "36.00 EUR" in edited.text
        stale = web.post(f"/deals/{deal.id}/line-items/{first['id']}", {
            "name": "First", "quantity": "4", "version": str(first["version"])}, htmx=True)
        assert stale.status_code == 412 and "someone changed it" in stale.text
        moved = web.post(f"/deals/{deal.id}/line-items/{first['id']}/move", {"direction": "down"}, htmx=True)
        assert moved.text.index('data-line="Second"') < moved.text.index('data-line="First"')
        removed = web.post(f"/deals/{deal.id}/line-items/{first['id']}/delete", {}, htmx=True)
        assert 'data-line="First"' not in removed.text and 'data-line="Second"' in removed.text

    def test_revise_a_sent_quote_from_its_page(self, company: Company) -> None:
        from tests.quotes.test_quotes_api import mark_sent

        web, _deal, url = quote_of(company)
        mark_sent(url.rsplit("/", 1)[1])
        page = web.get(url)
        assert 'id="quote-builder"' not in page.text  # frozen: read only
        assert web.post(f"{url}/lines", {"rows": "1", "l0-name": "X", "l0-unit_price": "1"}).status_code == 409
        revised = web.post(f"{url}/revise", {}, follow_redirects=True)
        assert revised.status_code == 200 and "Quote · revision 2" in revised.text and 'id="quote-builder"' in revised.text
