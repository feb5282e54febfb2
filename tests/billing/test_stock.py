"""Stock through the API: receipts and adjustments by managers, never below zero unless
allowed, moves with their running balance, and the low-stock task and event."""

from sqlalchemy import select

from pipewise.crm.models import Task
from pipewise.events.models import OutboxEvent
from tests.billing import builders
from tests.billing.support import fresh, level


class TestReceiptsAndAdjustments:
    def test_a_manager_receives_and_adjusts_with_a_running_balance(self, session, co, api):
        widget = builders.product(session)
        session.commit()
        manager = co.headers["east_manager"]
        received = api.post("/api/v1/stock/receipts", json={"product_id": str(widget.id), "quantity": "12", "reason": "PO 7"},
                            headers=manager)
        assert received.status_code == 201, received.text
        assert (received.json()["on_hand"], received.json()["available"], received.json()["location"]) == ("12.0000", "12.0000", "Main")
        adjusted = api.post("/api/v1/stock/adjustments", json={"product_id": str(widget.id), "quantity": "-2", "reason": "count"},
                            headers=manager)
        assert adjusted.json()["on_hand"] == "10.0000"
        moves = api.get("/api/v1/stock/moves", params={"product_id": str(widget.id)}, headers=co.headers["east_rep"]).json()
        assert [(m["kind"], m["quantity"], m["balance_after"], m["reason"]) for m in moves] == [
            ("adjustment", "-2.0000", "10.0000", "count"), ("receipt", "12.0000", "12.0000", "PO 7")]
        [row] = api.get("/api/v1/stock", headers=co.headers["west_rep"]).json()
        assert row["sku"] == widget.sku and row["reserved"] == "0.0000"

    def test_reps_may_not_change_stock(self, session, co, api):
        widget = builders.product(session)
        session.commit()
        body = {"product_id": str(widget.id), "quantity": "5", "reason": "found"}
        assert api.post("/api/v1/stock/receipts", json=body, headers=co.headers["east_rep"]).status_code == 403
        assert api.post("/api/v1/stock/adjustments", json=body, headers=co.headers["east_rep"]).status_code == 403
        assert api.get("/api/v1/stock", headers=co.headers["admin"]).json() == []

    def test_stock_never_goes_below_zero_unless_the_company_allows_it(self, session, co, api):
        widget = builders.product(session, on_hand=3)
        session.commit()
        body = {"product_id": str(widget.id), "quantity": "-4", "reason": "broken"}
        refused = api.post("/api/v1/stock/adjustments", json=body, headers=co.headers["admin"])
        assert refused.status_code == 422
        assert refused.json()["errors"] == [{"field": "quantity",
                                             "message": f"only 3 of {widget.sku} on hand; stock cannot go below zero"}]
        assert level(session, widget).on_hand == 3
        builders.allow_negative_stock(session)
        session.commit()
        assert api.post("/api/v1/stock/adjustments", json=body, headers=co.headers["admin"]).json()["on_hand"] == "-1.0000"

    def test_bad_input_is_a_field_error(self, session, co, api):
        service = builders.product(session, stocked=False)
        session.commit()
        admin = co.headers["admin"]
        not_stocked = api.post("/api/v1/stock/receipts", json={"product_id": str(service.id), "quantity": "1"}, headers=admin)
        assert not_stocked.status_code == 422 and not_stocked.json()["errors"][0]["field"] == "product_id"
        zero = api.post("/api/v1/stock/receipts", json={"product_id": str(service.id), "quantity": "0"}, headers=admin)
        assert zero.status_code == 422
        no_reason = api.post("/api/v1/stock/adjustments", json={"product_id": str(service.id), "quantity": "1", "reason": ""},
                             headers=admin)
        assert no_reason.status_code == 422


class TestLowStock:
    def test_falling_below_the_threshold_makes_one_task_and_one_event(self, session, co, api):
        widget = builders.product(session, on_hand=10)
        session.commit()
        admin = co.headers["admin"]
        threshold = api.put("/api/v1/stock/thresholds", headers=admin, json={
            "product_id": str(widget.id), "low_threshold": "5", "manager_id": str(co.users["east_manager"].id)})
        assert threshold.status_code == 200 and threshold.json()["low"] is False
        for quantity in ("-4", "-2", "-1"):  # 10 → 6 (above), → 4 (crosses), → 3 (already below)
            api.post("/api/v1/stock/adjustments", json={"product_id": str(widget.id), "quantity": quantity, "reason": "sold"},
                     headers=admin)
        fresh(session)
        [task] = session.scalars(select(Task).where(Task.related_id == widget.id)).all()
        assert task.owner_id == co.users["east_manager"].id and "4 available" in task.title
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "billing.stock_low")).all()
        assert event.record_id == widget.id and event.payload["data"]["available"] == "4.0000"
        assert event.payload["data"]["task_id"] == str(task.id)
        [row] = api.get("/api/v1/stock", headers=admin).json()
        assert row["low"] is True

        api.post("/api/v1/stock/receipts", json={"product_id": str(widget.id), "quantity": "10"}, headers=admin)
        api.post("/api/v1/stock/adjustments", json={"product_id": str(widget.id), "quantity": "-10", "reason": "sold"}, headers=admin)
        fresh(session)
        assert len(session.scalars(select(Task).where(Task.related_id == widget.id)).all()) == 2  # crossed again
