"""Discount approval through the HTTP API: a discount above the saver's role limit waits
for a manager; the request and the decision are events, timeline entries and a task."""

from typing import Any

from sqlalchemy import select

from pipewise.crm.models import Task
from pipewise.events.models import OutboxEvent
from tests.quotes.conftest import Company
from tests.quotes.test_quotes_api import deal_with_lines, new_quote


def discounted(company: Company, who: str = "east_rep", percent: str = "15", owner: str = "east_rep") -> dict[str, Any]:
    quote = new_quote(company, deal_with_lines(company, owner), who)
    response = company.call(who, "PUT", f"/quotes/{quote['id']}/lines", json={"lines": [
        {"product_id": str(company.products["SEAT"].id), "quantity": "10", "discount_percent": percent}]})
    assert response.status_code == 200, response.text
    return response.json()


def pending(company: Company, who: str, quote: dict[str, Any]) -> dict[str, Any]:
    queue = company.call(who, "GET", "/quote-approvals").json()
    return next(item for item in queue if item["quote_id"] == quote["id"])


def decide(company: Company, who: str, approval: dict[str, Any], decision: str = "approved", comment: str = "ok") -> Any:
    return company.call(who, "POST", f"/quote-approvals/{approval['id']}/decision",
                        json={"decision": decision, "comment": comment})


class TestRequest:
    def test_within_the_limit_needs_nothing(self, company: Company) -> None:
        quote = discounted(company, percent="10")
        assert quote["status"] == "draft"
        assert company.call("east_manager", "GET", "/quote-approvals").json() == []

    def test_above_the_limit_waits_for_the_team_manager(self, company: Company, session: Any) -> None:
        quote = discounted(company, percent="15")
        assert quote["status"] == "pending_approval"
        assert quote["max_discount_percent"].startswith("15")
        approval = pending(company, "east_manager", quote)
        assert approval["approver_id"] == str(company.users["east_manager"].id)
        assert approval["requested_by_id"] == str(company.users["east_rep"].id)
        assert approval["threshold_percent"].startswith("10")
        task = session.scalars(select(Task).where(Task.title.like(f"Approve discount on {quote['number']}%"))).one()
        assert task.owner_id == company.users["east_manager"].id and task.status == "open"
        names = set(session.scalars(select(OutboxEvent.name)))
        assert "quote.approval_requested" in names
        timeline = company.call("east_rep", "GET", f"/deals/{quote['deal_id']}/timeline").json()
        assert any(e["title"] == f"Discount approval requested on {quote['number']}" for e in timeline)
        inbox = company.call("east_manager", "GET", "/notifications", params={"unread": "true"}).json()["items"]
        assert [(n["kind"], n["link"]) for n in inbox if n["kind"] == "approval_requested"] == [
            ("approval_requested", "/quote-approvals")]
        assert company.call("east_rep", "GET", "/notifications").json()["items"] == []

    def test_a_manager_has_a_higher_limit(self, company: Company) -> None:
        deal_owner = "east_rep"
        quote = discounted(company, who="east_manager", percent="20", owner=deal_owner)
        assert quote["status"] == "draft"

    def test_editing_an_approved_quote_judges_it_again(self, company: Company) -> None:
        quote = discounted(company)
        assert decide(company, "east_manager", pending(company, "east_manager", quote)).status_code == 200
        assert company.call("east_rep", "GET", f"/quotes/{quote['id']}").json()["status"] == "approved"
        again = company.call("east_rep", "PUT", f"/quotes/{quote['id']}/lines", json={"lines": [
            {"product_id": str(company.products["SEAT"].id), "quantity": "12", "discount_percent": "15"}]}).json()
        assert again["status"] == "pending_approval"
        statuses = [a["status"] for a in company.call("east_rep", "GET", f"/quotes/{quote['id']}/approvals").json()]
        assert statuses == ["approved", "pending"]
        lowered = company.call("east_rep", "PUT", f"/quotes/{quote['id']}/lines", json={"lines": [
            {"product_id": str(company.products["SEAT"].id), "quantity": "12", "discount_percent": "5"}]}).json()
        assert lowered["status"] == "draft"
        statuses = [a["status"] for a in company.call("east_rep", "GET", f"/quotes/{quote['id']}/approvals").json()]
        assert statuses == ["approved", "withdrawn"]


class TestDecision:
    def test_manager_approves_with_a_comment(self, company: Company, session: Any) -> None:
        quote = discounted(company)
        approval = pending(company, "east_manager", quote)
        response = decide(company, "east_manager", approval, comment="strategic account")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved" and response.json()["comment"] == "strategic account"
        assert company.call("east_rep", "GET", f"/quotes/{quote['id']}").json()["status"] == "approved"
        assert decide(company, "admin", approval).status_code == 409
        session.expire_all()
        assert "quote.approval_decided" in set(session.scalars(select(OutboxEvent.name)))
        task = session.scalars(select(Task).where(Task.title.like(f"Approve discount on {quote['number']}%"))).one()
        assert task.status == "done"
        timeline = company.call("east_rep", "GET", f"/deals/{quote['deal_id']}/timeline").json()
        assert any(e["title"] == f"Discount on {quote['number']} approved" and e["detail"] == "strategic account"
                   for e in timeline)

    def test_reject_keeps_the_quote_from_being_sent(self, company: Company) -> None:
        quote = discounted(company)
        assert decide(company, "admin", pending(company, "admin", quote), "rejected", "too deep").status_code == 200
        assert company.call("east_rep", "GET", f"/quotes/{quote['id']}").json()["status"] == "rejected"

    def test_a_rep_cannot_decide(self, company: Company) -> None:
        quote = discounted(company)
        approval = pending(company, "east_manager", quote)
        assert decide(company, "east_rep", approval).status_code == 403
        assert company.call("east_rep", "GET", f"/quotes/{quote['id']}").json()["status"] == "pending_approval"

    def test_nobody_approves_their_own_request_unless_admin(self, company: Company) -> None:
        quote = discounted(company, who="east_manager", percent="30")
        approval = pending(company, "east_manager", quote)
        assert approval["approver_id"] is None  # the manager's own team has them as manager
        assert decide(company, "east_manager", approval).status_code == 403
        admin_quote = discounted(company, who="admin", percent="100")
        assert admin_quote["status"] == "draft"  # an admin's limit is 100 %
        company.call("admin", "PATCH", "/company-settings", json={"discount_limits": {"admin": "50"}})
        admin_quote = discounted(company, who="admin", percent="60")
        assert decide(company, "admin", pending(company, "admin", admin_quote)).status_code == 200

    def test_another_team_sees_no_request(self, company: Company) -> None:
        quote = discounted(company)
        approval = pending(company, "east_manager", quote)
        assert company.call("west_manager", "GET", "/quote-approvals").json() == []
        response = decide(company, "west_manager", approval)
        assert response.status_code == 404
        assert quote["number"] not in response.text


class TestCompanySettings:
    def test_only_admins_change_them_and_bad_values_are_field_errors(self, company: Company) -> None:
        assert company.call("east_manager", "PATCH", "/company-settings", json={"name": "Mine"}).status_code == 403
        for body in ({"currency": "XYZ"}, {"brand_color": "red"}, {"tax_mode": "sometimes"}, {"name": None}):
            bad = company.call("admin", "PATCH", "/company-settings", json=body)
            assert bad.status_code == 422, body
            assert bad.json()["errors"][0]["field"] == next(iter(body))
        good = company.call("admin", "PATCH", "/company-settings", json={"name": "Acme GmbH", "vat_id": "DE123456789",
                                                                          "discount_limits": {"rep": "12.5"}})
        assert good.status_code == 200, good.text
        body = company.call("east_rep", "GET", "/company-settings").json()
        assert body["name"] == "Acme GmbH" and body["discount_limits"]["rep"] == "12.5"
        assert body["discount_limits"]["manager"] == "25"
