"""`pipewise billing …`: stock, orders and invoices from the terminal."""

from tests.billing import builders


def test_receive_confirm_deliver_invoice_and_pay_from_the_terminal(cli, session, co, api):
    widget = builders.product(session)
    quote = builders.quote(session, co.deal(), [{"product": widget, "quantity": 2}])
    session.commit()
    received = cli("billing", "receive", widget.sku, "5", "--reason", "PO 9")
    assert received.exit_code == 0, received.output
    assert f"{widget.sku}: 5 on hand." in received.stdout
    order = api.post("/api/v1/orders", json={"quote_id": str(quote.id)}, headers=co.headers["admin"]).json()
    assert cli("billing", "confirm", order["number"]).exit_code == 0
    assert "DN-" in cli("billing", "deliver", order["number"]).stdout
    stock = cli("billing", "stock")
    assert widget.sku in stock.stdout and "3" in stock.stdout

    draft = api.post("/api/v1/invoices/from-order", json={"order_id": order["id"]}, headers=co.headers["admin"]).json()
    posted = cli("billing", "post", draft["id"])
    assert posted.exit_code == 0 and "Posted as INV-" in posted.stdout
    number = posted.stdout.split("Posted as ")[1].split(",")[0]
    paid = cli("billing", "pay", number, "23.80")
    assert paid.exit_code == 0, paid.output
    assert f"{number}: paid, 0.00 EUR outstanding." in paid.stdout
    assert number in cli("billing", "invoices", "--status", "paid").stdout


def test_refusals_are_clear_errors(cli, session):
    widget = builders.product(session, on_hand=1)
    session.commit()
    result = cli("billing", "adjust", widget.sku, "--by", "-2", "--reason", "count")
    assert result.exit_code == 1
    assert f"only 1 of {widget.sku} on hand" in result.stderr and "Traceback" not in result.output
    assert "no product with SKU NOPE" in cli("billing", "receive", "NOPE", "1").stderr
    assert "is not a number" in cli("billing", "receive", widget.sku, "lots").stderr
