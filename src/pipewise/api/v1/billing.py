"""Orders, deliveries, invoices, payments and stock over HTTP. Orders and invoices are
seen by whoever sees their deal; posting, voiding, payments and stock changes are for
managers and admins."""

import uuid
from typing import Any, Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.crud import body_bytes, run_idempotent
from pipewise.billing import documents, invoices, orders, stock, views
from pipewise.billing import schemas as b

router = api_router()
ORDERS, INVOICES, STOCK = ["orders"], ["invoices"], ["stock"]
Limit = Query(100, ge=1, le=500)
OrderStatus = Literal["draft", "confirmed", "partly_delivered", "delivered", "cancelled"]
DocumentKind = Literal["pdf", "ubl", "facturx"]
InvoiceStatus = Literal["draft", "posted", "partly_paid", "paid", "void", "overdue"]


def _dump(model: type[BaseModel], data: Any) -> Any:
    return model.model_validate(data).model_dump(mode="json")


def _order(session: Any, order: Any) -> Any:
    session.flush()
    return _dump(b.Order, views.order_detail(session, order))


def _invoice(session: Any, invoice: Any) -> Any:
    session.flush()
    return _dump(b.Invoice, views.invoice_detail(session, invoice))


# -- orders ---------------------------------------------------------------------------


@router.get("/orders", response_model=list[b.OrderSummary], tags=ORDERS, summary="Orders the caller may see")
def list_orders(session: DbSession, actor: CurrentActor, status: OrderStatus | None = None,
                deal_id: uuid.UUID | None = None, limit: int = Limit) -> Any:
    return [views.order_summary(o) for o in orders.list_orders(session, actor=actor, status=status, deal_id=deal_id, limit=limit)]


@router.post("/orders", status_code=201, response_model=b.Order, tags=ORDERS, summary="Turn a quote into an order")
def create_order(body: b.OrderFromQuote, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        order, _new = orders.from_quote(session, body.quote_id, actor=actor)
        return _order(session, order)

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.get("/orders/{order_id}", response_model=b.Order, tags=ORDERS)
def read_order(order_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return views.order_detail(session, orders.get(session, order_id, actor=actor))


@router.post("/orders/{order_id}/confirm", response_model=b.Order, tags=ORDERS, summary="Confirm and reserve stock")
def confirm_order(order_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return run_idempotent(request, session, actor, b"", 200,
                          lambda: _order(session, orders.confirm(session, order_id, actor=actor)))


@router.post("/orders/{order_id}/deliveries", status_code=201, response_model=b.Order, tags=ORDERS,
             summary="Deliver some or all of an order (a delivery note)")
def deliver_order(order_id: uuid.UUID, body: b.DeliveryIn, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        lines = None if body.lines is None else [orders.DeliveryLine(i.order_line_id, i.quantity) for i in body.lines]
        orders.deliver(session, order_id, actor=actor, lines=lines, note=body.note)
        return _order(session, orders.get(session, order_id, actor=actor))

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.post("/orders/{order_id}/cancel", response_model=b.Order, tags=ORDERS, summary="Cancel, releasing reserved stock")
def cancel_order(order_id: uuid.UUID, body: b.CancelIn, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return run_idempotent(request, session, actor, body_bytes(body), 200,
                          lambda: _order(session, orders.cancel(session, order_id, actor=actor, reason=body.reason)))


# -- invoices -------------------------------------------------------------------------


@router.get("/invoices", response_model=list[b.InvoiceSummary], tags=INVOICES, summary="Invoices the caller may see")
def list_invoices(session: DbSession, actor: CurrentActor,
                  status: InvoiceStatus | None = None,
                  deal_id: uuid.UUID | None = None, order_id: uuid.UUID | None = None, limit: int = Limit) -> Any:
    found = invoices.list_invoices(session, actor=actor, status=status, deal_id=deal_id, order_id=order_id, limit=limit)
    return [views.invoice_summary(i) for i in found]


@router.post("/invoices/from-order", status_code=201, response_model=b.Invoice, tags=INVOICES,
             summary="Invoice an order: every line, or what was delivered")
def invoice_order(body: b.InvoiceFromOrder, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        return _invoice(session, invoices.from_order(session, body.order_id, actor=actor, only_delivered=body.only_delivered))

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.post("/invoices/from-deal", status_code=201, response_model=b.Invoice, tags=INVOICES,
             summary="Invoice a deal's line items")
def invoice_deal(body: b.InvoiceFromDeal, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return run_idempotent(request, session, actor, body_bytes(body), 201,
                          lambda: _invoice(session, invoices.from_deal(session, body.deal_id, actor=actor)))


@router.get("/invoices/{invoice_id}", response_model=b.Invoice, tags=INVOICES)
def read_invoice(invoice_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return views.invoice_detail(session, invoices.get(session, invoice_id, actor=actor))


@router.patch("/invoices/{invoice_id}", response_model=b.Invoice, tags=INVOICES, summary="Change a draft (409 once posted)")
def update_invoice(invoice_id: uuid.UUID, body: b.InvoiceUpdate, session: DbSession, actor: CurrentActor) -> Any:
    invoice = invoices.update_draft(session, invoice_id, actor=actor, data=body.model_dump(exclude_unset=True))
    return _invoice(session, invoice)


@router.post("/invoices/{invoice_id}/post", response_model=b.Invoice, tags=INVOICES,
             summary="Post: the next number of the year's gap-free series")
def post_invoice(invoice_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return run_idempotent(request, session, actor, b"", 200,
                          lambda: _invoice(session, invoices.post(session, invoice_id, actor=actor)))


@router.post("/invoices/{invoice_id}/payments", status_code=201, response_model=b.Invoice, tags=INVOICES,
             summary="Record a payment")
def pay_invoice(invoice_id: uuid.UUID, body: b.PaymentIn, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        invoices.record_payment(session, invoice_id, actor=actor, **body.model_dump())
        return _invoice(session, invoices.get(session, invoice_id, actor=actor))

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.post("/invoices/{invoice_id}/credit-note", status_code=201, response_model=b.Invoice, tags=INVOICES,
             summary="Void an invoice with a credit note (returns the credit note)")
def credit_invoice(invoice_id: uuid.UUID, body: b.CreditNoteIn, request: Request, session: DbSession,
                   actor: CurrentActor) -> Any:
    return run_idempotent(request, session, actor, body_bytes(body), 201,
                          lambda: _invoice(session, invoices.credit_note(session, invoice_id, actor=actor, reason=body.reason)))


# -- stock ----------------------------------------------------------------------------


@router.get("/stock", response_model=list[b.StockLevel], tags=STOCK, summary="Stock levels: on hand, reserved, available")
def stock_levels(session: DbSession, actor: CurrentActor, product_id: uuid.UUID | None = None) -> Any:
    return [views.level(row) for row in stock.levels(session, product_id=product_id)]


@router.get("/stock/moves", response_model=list[b.StockMove], tags=STOCK, summary="Stock moves, newest first")
def stock_moves(session: DbSession, actor: CurrentActor, product_id: uuid.UUID | None = None, limit: int = Limit) -> Any:
    return [views.move(m, p) for m, p in stock.moves(session, product_id=product_id, limit=limit)]


def _level_after(session: Any, product_id: uuid.UUID, location_id: uuid.UUID | None) -> Any:
    session.flush()
    return _dump(b.StockLevel, views.level(stock.level_of(session, product_id, location_id)))


@router.post("/stock/receipts", status_code=201, response_model=b.StockLevel, tags=STOCK, summary="Receive goods")
def receive_stock(body: b.StockReceipt, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        move = stock.receive(session, actor=actor, **body.model_dump())
        return _level_after(session, body.product_id, move.location_id)

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.post("/stock/adjustments", status_code=201, response_model=b.StockLevel, tags=STOCK,
             summary="Correct what is on hand, with a reason")
def adjust_stock(body: b.StockAdjustment, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    def produce() -> Any:
        move = stock.adjust(session, actor=actor, **body.model_dump())
        return _level_after(session, body.product_id, move.location_id)

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.put("/stock/thresholds", response_model=b.StockLevel, tags=STOCK, summary="Set a low-stock threshold")
def set_threshold(body: b.StockThreshold, session: DbSession, actor: CurrentActor) -> Any:
    level = stock.set_threshold(session, actor=actor, product_id=body.product_id, threshold=body.low_threshold,
                                manager_id=body.manager_id, location_id=body.location_id)
    return _level_after(session, body.product_id, level.location_id)


@router.get("/invoices/{invoice_id}/documents/{kind}", tags=INVOICES, response_class=Response,
            summary="A posted invoice as a PDF, UBL 2.1 XML (Peppol BIS 3.0) or a Factur-X PDF",
            responses={200: {"content": {"application/pdf": {}, "application/xml": {}}}})
def invoice_document(invoice_id: uuid.UUID, kind: DocumentKind, session: DbSession, actor: CurrentActor) -> Any:
    name, media_type, content = documents.invoice_file(session, invoices.get(session, invoice_id, actor=actor), kind)
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
