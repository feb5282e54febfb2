"""Invoices through the API: from delivered quantities or a deal's line items, posting
with a gap-free number, immutability, payments, credit notes, the overdue check and who
may do what."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.automation.service import workflow_service
from pipewise.billing.invoices import OVERDUE_ACTION
from pipewise.billing.models import Invoice
from pipewise.errors import ValidationFailed
from pipewise.events.models import OutboxEvent, ScheduledAction
from pipewise.worker.runner import Worker
from tests.billing import builders
from tests.billing.support import fresh

YEAR = date.today().year
STEPS = [{"id": "call", "type": "create_task", "title": "Follow up"}]


@pytest.fixture
def delivered_order(session, co, api):  # type: ignore[no-untyped-def]
    """An order of 5 widgets at 10.00 (19 % tax) and 2 services at 100.00, 3 widgets delivered."""
    widget = builders.product(session, on_hand=10)
    service = builders.product(session, stocked=False, price="100.00")
    quote = builders.quote(session, co.deal(), [{"product": widget, "quantity": 5}, {"product": service, "quantity": 2}])
    session.commit()
    admin = co.headers["admin"]
    order = api.post("/api/v1/orders", json={"quote_id": str(quote.id)}, headers=admin).json()
    api.post(f"/api/v1/orders/{order['id']}/confirm", headers=admin)
    api.post(f"/api/v1/orders/{order['id']}/deliveries", headers=admin,
             json={"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "3"}]})
    return order


def _draft(api, co, order, only_delivered=True):  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/invoices/from-order", json={"order_id": order["id"], "only_delivered": only_delivered},
                        headers=co.headers["east_rep"])
    assert response.status_code == 201, response.text
    return response.json()


def _post(api, co, invoice, who="east_manager"):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/invoices/{invoice['id']}/post", headers=co.headers[who])


class TestFromOrder:
    def test_delivered_quantities_then_the_rest(self, co, api, delivered_order):
        first = _draft(api, co, delivered_order)
        assert [(line["name"].startswith("Widget"), line["quantity"]) for line in first["lines"]] == [(True, "3.0000")]
        assert (first["net_total"], first["tax_total"], first["gross_total"]) == ("30.00", "5.70", "35.70")
        assert first["status"] == "draft" and first["number"] is None and first["outstanding"] == "0.00"
        nothing = api.post("/api/v1/invoices/from-order", json={"order_id": delivered_order["id"], "only_delivered": True},
                           headers=co.headers["east_rep"])
        assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "only_delivered"
        rest = _draft(api, co, delivered_order, only_delivered=False)
        assert [line["quantity"] for line in rest["lines"]] == ["2.0000", "2.0000"]
        assert rest["gross_total"] == "261.80"  # 20 + 200 net, 19 % tax

    def test_from_a_deals_line_items(self, session, co, api):
        deal = co.deal()
        builders.deal_line(session, deal, builders.product(session), "4", "5.63", tax_rate="22")
        session.commit()
        response = api.post("/api/v1/invoices/from-deal", json={"deal_id": str(deal.id)}, headers=co.headers["east_rep"])
        assert response.status_code == 201, response.text
        assert response.json()["gross_total"] == "27.47"
        empty = co.deal()
        session.commit()
        refused = api.post("/api/v1/invoices/from-deal", json={"deal_id": str(empty.id)}, headers=co.headers["east_rep"])
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "deal_id"


class TestPost:
    def test_posting_numbers_dates_and_freezes_the_invoice(self, co, api, delivered_order):
        draft = _draft(api, co, delivered_order)
        assert api.patch(f"/api/v1/invoices/{draft['id']}", json={"notes": "thanks"}, headers=co.headers["east_rep"]).status_code == 200
        assert _post(api, co, draft, who="east_rep").status_code == 403
        posted = _post(api, co, draft)
        assert posted.status_code == 200, posted.text
        body = posted.json()
        assert body["number"] == f"INV-{YEAR}-000001" and body["status"] == "posted" and body["notes"] == "thanks"
        assert date.fromisoformat(body["due_date"]) - date.fromisoformat(body["issue_date"]) == timedelta(days=30)
        assert body["outstanding"] == "35.70"
        edit = api.patch(f"/api/v1/invoices/{draft['id']}", json={"notes": "changed"}, headers=co.headers["admin"])
        assert edit.status_code == 409
        assert _post(api, co, draft).status_code == 409
        second = _post(api, co, _draft(api, co, delivered_order, only_delivered=False)).json()
        assert second["number"] == f"INV-{YEAR}-000002"


class TestPaymentsAndCreditNotes:
    def test_partial_then_full_payment(self, co, api, delivered_order):
        invoice = _post(api, co, _draft(api, co, delivered_order)).json()
        url = f"/api/v1/invoices/{invoice['id']}/payments"
        assert api.post(url, json={"amount": "10.00"}, headers=co.headers["east_rep"]).status_code == 403
        part = api.post(url, json={"amount": "10.00", "method": "card", "reference": "r1"}, headers=co.headers["east_manager"])
        assert part.status_code == 201, part.text
        assert (part.json()["status"], part.json()["outstanding"]) == ("partly_paid", "25.70")
        too_much = api.post(url, json={"amount": "25.71"}, headers=co.headers["east_manager"])
        assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
        paid = api.post(url, json={"amount": "25.70", "paid_on": str(date.today())}, headers=co.headers["east_manager"]).json()
        assert (paid["status"], paid["outstanding"], paid["paid_total"]) == ("paid", "0.00", "35.70")
        assert [p["amount"] for p in paid["payments"]] == ["10.00", "25.70"]

    def test_a_credit_note_voids_the_invoice_and_frees_its_lines(self, session, co, api, delivered_order):
        invoice = _post(api, co, _draft(api, co, delivered_order)).json()
        url = f"/api/v1/invoices/{invoice['id']}/credit-note"
        assert api.post(url, json={}, headers=co.headers["east_rep"]).status_code == 403
        credit = api.post(url, json={"reason": "wrong address"}, headers=co.headers["east_manager"])
        assert credit.status_code == 201, credit.text
        body = credit.json()
        assert (body["kind"], body["status"], body["credit_of_id"]) == ("credit_note", "posted", invoice["id"])
        assert body["number"] == f"INV-{YEAR}-000002" and body["gross_total"] == invoice["gross_total"]
        original = api.get(f"/api/v1/invoices/{invoice['id']}", headers=co.headers["east_rep"]).json()
        assert original["status"] == "void" and original["credit_notes"] == [body["id"]] and original["outstanding"] == "0.00"
        assert api.post(url, json={}, headers=co.headers["east_manager"]).status_code == 409
        again = _draft(api, co, delivered_order)  # the delivered widgets may be invoiced again
        assert again["lines"][0]["quantity"] == "3.0000"
        listed = api.get("/api/v1/invoices", params={"status": "void"}, headers=co.headers["admin"]).json()
        assert [i["id"] for i in listed] == [invoice["id"]]


class TestOverdue:
    def test_the_daily_check_announces_each_overdue_invoice_once(self, session, co, api, delivered_order):
        dunning = workflow_service.create(session, name="Dunning", actor=SYSTEM_ACTOR, definition={
            "trigger": {"type": "billing_event", "event": "invoice_overdue"},
            "steps": [{"id": "call", "type": "create_task", "title": "Call about the overdue invoice"}]})
        workflow_service.activate(session, dunning.id, actor=SYSTEM_ACTOR)
        session.commit()
        invoice = _post(api, co, _draft(api, co, delivered_order)).json()
        fresh(session)
        [timer] = session.scalars(select(ScheduledAction).where(ScheduledAction.kind == OVERDUE_ACTION)).all()
        assert timer.run_at.date() == date.today() + timedelta(days=1)
        session.execute(update(Invoice).where(Invoice.id == uuid.UUID(invoice["id"])).values(due_date=date.today() - timedelta(days=1)))
        session.execute(update(ScheduledAction).where(ScheduledAction.id == timer.id)
                        .values(run_at=timer.run_at - timedelta(days=2)))
        session.commit()
        Worker(name="test").run_until_idle()
        fresh(session)
        session.execute(update(ScheduledAction).where(ScheduledAction.kind == OVERDUE_ACTION, ScheduledAction.status == "pending")
                        .values(run_at=timer.run_at - timedelta(days=2)))
        session.commit()
        Worker(name="test").run_until_idle()  # the next day's check: nothing new
        fresh(session)
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "billing.invoice_overdue")).all()
        assert [(e.record_id, e.payload["data"]["outstanding"]) for e in events] == [
            (uuid.UUID(invoice["id"]), "35.70")]
        listed = api.get("/api/v1/invoices", params={"status": "overdue"}, headers=co.headers["east_rep"]).json()
        assert [(i["id"], i["overdue"]) for i in listed] == [(invoice["id"], True)]
        enrolled = session.scalars(select(WorkflowEnrollment).where(WorkflowEnrollment.workflow_id == dunning.id)).all()
        assert [(e.record_type, e.record_id) for e in enrolled] == [("deal", uuid.UUID(invoice["deal_id"]))]

    def test_a_stock_trigger_enrolls_the_task_and_a_mismatched_record_type_is_refused(self, session):
        with pytest.raises(ValidationFailed) as refused:
            workflow_service.create(session, name="Odd", actor=SYSTEM_ACTOR, definition={
                "trigger": {"type": "billing_event", "event": "invoice_paid", "record_type": "contact"}, "steps": STEPS})
        assert "enrolls a deal" in str(refused.value)
        restock = workflow_service.create(session, name="Restock", actor=SYSTEM_ACTOR, definition={
            "trigger": {"type": "billing_event", "event": "stock_low"}, "steps": STEPS})
        assert restock.record_type == "task"


class TestVisibility:
    def test_another_teams_rep_gets_404(self, co, api, delivered_order):
        invoice = _draft(api, co, delivered_order)
        west = co.headers["west_rep"]
        assert api.get(f"/api/v1/invoices/{invoice['id']}", headers=west).status_code == 404
        assert api.patch(f"/api/v1/invoices/{invoice['id']}", json={"notes": "x"}, headers=west).status_code == 404
        assert api.post(f"/api/v1/invoices/{invoice['id']}/post", headers=co.headers["west_manager"]).status_code == 404
        assert api.get("/api/v1/invoices", headers=west).json() == []
        refused = api.post("/api/v1/invoices/from-order", json={"order_id": delivered_order["id"]}, headers=west)
        assert refused.status_code == 404
        assert Decimal(api.get("/api/v1/invoices", headers=co.headers["east_rep"]).json()[0]["gross_total"]) == Decimal("35.70")


class TestTimeline:
    def test_the_deal_timeline_shows_its_order_and_invoice(self, co, api, delivered_order):
        invoice = _post(api, co, _draft(api, co, delivered_order)).json()
        entries = api.get(f"/api/v1/deals/{delivered_order['deal_id']}/timeline", headers=co.headers["east_rep"]).json()
        titles = [entry["title"] for entry in entries if entry["kind"] in ("order", "invoice")]
        assert f"Order {delivered_order['number']}: partly delivered" in titles
        assert f"Invoice {invoice['number']}: posted" in titles


class TestNumbersFollowDates:
    def test_a_draft_dated_before_the_last_numbered_invoice_is_refused_and_takes_no_number(self, co, api, delivered_order):
        first = _post(api, co, _draft(api, co, delivered_order)).json()
        late = _draft(api, co, delivered_order, only_delivered=False)
        earlier = date.fromisoformat(first["issue_date"]) - timedelta(days=1)
        if earlier.year != YEAR:
            pytest.skip("the first of January has no earlier day in the year")
        api.patch(f"/api/v1/invoices/{late['id']}", json={"issue_date": str(earlier)}, headers=co.headers["admin"])
        refused = _post(api, co, late)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "issue_date"
        api.patch(f"/api/v1/invoices/{late['id']}", json={"issue_date": first["issue_date"]}, headers=co.headers["admin"])
        assert _post(api, co, late).json()["number"] == f"INV-{YEAR}-000002"  # the refused posting left no gap
