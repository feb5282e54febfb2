"""Orders through the API: from an accepted quote (the event, once) or by a manager's
hand, confirmation against stock, partial delivery, cancellation, who sees what."""

from decimal import Decimal

from sqlalchemy import func, select

from pipewise.billing.models import Order, StockLevel, StockMove
from pipewise.crm.models import Task
from pipewise.events import bus
from pipewise.events.models import OutboxEvent
from pipewise.quotes.events import QuoteAccepted
from pipewise.worker.runner import Worker
from tests.billing import builders


def _accept(session, quote) -> None:  # type: ignore[no-untyped-def]
    bus.record(session, QuoteAccepted(record_id=quote.id, deal_id=quote.deal_id, number=quote.number, revision=1,
                                      gross_total=quote.gross_total, currency="EUR"))


def _level(session, product):  # type: ignore[no-untyped-def]
    session.commit()  # a fresh snapshot: what the requests committed
    session.expire_all()
    return session.scalar(select(StockLevel).where(StockLevel.product_id == product.id))


class TestOrderFromAcceptedQuote:
    def test_the_event_makes_one_confirmed_order_of_the_selected_lines(self, session, co, api):
        deal = co.deal()
        widget, extra = builders.product(session, on_hand=6), builders.product(session, price="99.00")
        quote = builders.quote(session, deal, [
            {"product": widget, "quantity": 4, "unit_price": "5.63", "tax_rate": "22"},
            {"product": extra, "quantity": 1, "selected": False},
        ])
        _accept(session, quote)
        _accept(session, quote)  # delivered twice: still one order
        session.commit()
        Worker(name="test").run_until_idle()

        response = api.get("/api/v1/orders", headers=co.headers["east_rep"])
        assert response.status_code == 200
        [summary] = response.json()
        assert summary["quote_id"] == str(quote.id) and summary["status"] == "confirmed"
        order = api.get(f"/api/v1/orders/{summary['id']}", headers=co.headers["east_rep"]).json()
        assert [(line["name"], Decimal(line["quantity"])) for line in order["lines"]] == [(widget.name, 4)]
        # 4 × 5.63 = 22.52, 22 % tax = 4.9544 → 4.95
        assert (Decimal(order["net_total"]), Decimal(order["tax_total"]), Decimal(order["gross_total"])) == (
            Decimal("22.52"), Decimal("4.95"), Decimal("27.47"))
        assert order["number"].startswith("SO-")
        assert (_level(session, widget).reserved, _level(session, extra)) == (4, None)
        # made and confirmed with the rights of the quote's owner, not the system's
        actors = dict(session.execute(select(OutboxEvent.name, OutboxEvent.actor_id)
                                      .where(OutboxEvent.name.in_(("billing.order_created", "billing.order_confirmed")))).all())
        assert actors == {"billing.order_created": quote.owner_id, "billing.order_confirmed": quote.owner_id}

    def test_short_stock_leaves_a_draft_and_tells_the_deal_owner(self, session, co, api):
        deal = co.deal()
        widget = builders.product(session, on_hand=1)
        _accept(session, builders.quote(session, deal, [{"product": widget, "quantity": 3}]))
        session.commit()
        Worker(name="test").run_until_idle()
        [order] = api.get("/api/v1/orders", headers=co.headers["east_rep"]).json()
        assert order["status"] == "draft"
        assert _level(session, widget).reserved == 0
        [task] = session.scalars(select(Task).where(Task.related_id == deal.id)).all()
        assert task.owner_id == co.users["east_rep"].id and order["number"] in task.title
        assert task.notes == f"3 of {widget.sku} wanted, only 1 available"

    def test_a_manager_converts_by_hand_once_and_a_rep_may_not(self, session, co, api):
        quote = builders.quote(session, co.deal(), [{"product": builders.product(session)}], status="sent")
        session.commit()
        body = {"quote_id": str(quote.id)}
        assert api.post("/api/v1/orders", json=body, headers=co.headers["east_rep"]).status_code == 403
        first = api.post("/api/v1/orders", json=body, headers=co.headers["east_manager"])
        again = api.post("/api/v1/orders", json=body, headers=co.headers["admin"])
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert session.scalar(select(func.count()).select_from(Order)) == 1

    def test_a_declined_quote_does_not_become_an_order(self, session, co, api):
        quote = builders.quote(session, co.deal(), [{"product": builders.product(session)}], status="declined")
        session.commit()
        response = api.post("/api/v1/orders", json={"quote_id": str(quote.id)}, headers=co.headers["admin"])
        assert response.status_code == 409


def _order(session, co, api, lines, owner="east_rep"):  # type: ignore[no-untyped-def]
    quote = builders.quote(session, co.deal(owner), lines)
    session.commit()
    response = api.post("/api/v1/orders", json={"quote_id": str(quote.id)}, headers=co.headers["admin"])
    assert response.status_code == 201, response.text
    return response.json()


class TestConfirm:
    def test_confirming_reserves_stock_and_a_short_order_is_refused_whole(self, session, co, api):
        widget = builders.product(session, on_hand=10)
        service = builders.product(session, stocked=False)
        first = _order(session, co, api, [{"product": widget, "quantity": 7}, {"product": service, "quantity": 3}])
        confirmed = api.post(f"/api/v1/orders/{first['id']}/confirm", headers=co.headers["east_rep"])
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "confirmed"
        assert [Decimal(line["reserved_quantity"]) for line in confirmed.json()["lines"]] == [7, 0]
        level = _level(session, widget)
        assert (level.on_hand, level.reserved, level.available) == (10, 7, 3)

        second = _order(session, co, api, [{"product": widget, "quantity": 4}])
        refused = api.post(f"/api/v1/orders/{second['id']}/confirm", headers=co.headers["east_rep"])
        assert refused.status_code == 422
        assert refused.json()["errors"] == [{"field": "lines[0].quantity",
                                             "message": f"4 of {widget.sku} wanted, only 3 available"}]
        assert api.get(f"/api/v1/orders/{second['id']}", headers=co.headers["east_rep"]).json()["status"] == "draft"
        assert _level(session, widget).reserved == 7
        assert api.post(f"/api/v1/orders/{first['id']}/confirm", headers=co.headers["east_rep"]).status_code == 409

    def test_the_company_may_allow_negative_stock(self, session, co, api):
        widget = builders.product(session, on_hand=1)
        builders.allow_negative_stock(session)
        order = _order(session, co, api, [{"product": widget, "quantity": 3}])
        assert api.post(f"/api/v1/orders/{order['id']}/confirm", headers=co.headers["east_rep"]).status_code == 200
        assert _level(session, widget).available == -2


class TestDeliverAndCancel:
    def test_partial_delivery_consumes_the_reservation_then_the_rest_completes(self, session, co, api):
        widget = builders.product(session, on_hand=10)
        order = _order(session, co, api, [{"product": widget, "quantity": 5}])
        api.post(f"/api/v1/orders/{order['id']}/confirm", headers=co.headers["east_rep"])
        line_id = order["lines"][0]["id"]

        too_many = api.post(f"/api/v1/orders/{order['id']}/deliveries", headers=co.headers["east_rep"],
                            json={"lines": [{"order_line_id": line_id, "quantity": "6"}]})
        assert too_many.status_code == 422
        assert too_many.json()["errors"][0]["field"] == "lines[0].quantity"

        part = api.post(f"/api/v1/orders/{order['id']}/deliveries", headers=co.headers["east_rep"],
                        json={"lines": [{"order_line_id": line_id, "quantity": "3"}], "note": "first pallet"})
        assert part.status_code == 201, part.text
        assert part.json()["status"] == "partly_delivered"
        [note] = part.json()["deliveries"]
        assert note["number"].startswith("DN-") and note["lines"] == [{"order_line_id": line_id, "quantity": "3.0000"}]
        level = _level(session, widget)
        assert (level.on_hand, level.reserved) == (7, 2)

        rest = api.post(f"/api/v1/orders/{order['id']}/deliveries", headers=co.headers["east_rep"], json={})
        assert rest.json()["status"] == "delivered"
        assert [d["number"] for d in rest.json()["deliveries"]][1] != note["number"]
        level = _level(session, widget)
        assert (level.on_hand, level.reserved) == (5, 0)
        moves = session.scalars(select(StockMove).where(StockMove.product_id == widget.id).order_by(StockMove.id)).all()
        assert [(m.kind, m.quantity, m.balance_after) for m in moves] == [
            ("receipt", 10, 10), ("delivery", -3, 7), ("delivery", -2, 5)]

    def test_cancelling_releases_what_is_still_reserved(self, session, co, api):
        widget = builders.product(session, on_hand=10)
        order = _order(session, co, api, [{"product": widget, "quantity": 6}])
        api.post(f"/api/v1/orders/{order['id']}/confirm", headers=co.headers["east_rep"])
        api.post(f"/api/v1/orders/{order['id']}/deliveries", headers=co.headers["east_rep"],
                 json={"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "2"}]})
        cancelled = api.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "buyer withdrew"},
                             headers=co.headers["east_rep"])
        assert cancelled.json()["status"] == "cancelled"
        level = _level(session, widget)
        assert (level.on_hand, level.reserved, level.available) == (8, 0, 8)
        assert api.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=co.headers["east_rep"]).status_code == 409


class TestVisibility:
    def test_another_teams_rep_gets_404_and_an_empty_list(self, session, co, api):
        widget = builders.product(session, on_hand=5)
        order = _order(session, co, api, [{"product": widget, "quantity": 1}])
        west = co.headers["west_rep"]
        assert api.get(f"/api/v1/orders/{order['id']}", headers=west).status_code == 404
        assert api.post(f"/api/v1/orders/{order['id']}/confirm", headers=west).status_code == 404
        assert api.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=west).status_code == 404
        assert api.get("/api/v1/orders", headers=west).json() == []
        assert [o["id"] for o in api.get("/api/v1/orders", headers=co.headers["east_manager"]).json()] == [order["id"]]
        assert _level(session, widget).reserved == 0
