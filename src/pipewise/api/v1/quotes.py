"""Deal line items, quotes beyond their CRUD routes (lines, revisions, live totals),
discount approvals and the company settings. Thin: every rule lives in ``quotes/``."""

import uuid
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.v1.crud import IfMatch, body_bytes, etag, expected_versions, run_idempotent
from pipewise.quotes import money, schemas
from pipewise.quotes.approvals import approval_service
from pipewise.quotes.line_items import line_amounts, line_item_service
from pipewise.quotes.models import Quote, QuoteApproval
from pipewise.quotes.service import quote_service, update_company_settings
from pipewise.quotes.settings import company_settings, rounding_for

router = api_router()


# -- shapes --


def totals_out(totals: money.Totals, rounding: money.Rounding, max_discount: Any) -> dict[str, Any]:
    return {
        "currency": rounding.currency, "tax_mode": rounding.tax_mode, "rounding_mode": rounding.mode,
        "discount": totals.discount, "net": totals.net, "tax": totals.tax, "gross": totals.gross,
        "tax_groups": [{"rate": g.rate, "base": g.base, "tax": g.tax} for g in totals.tax_groups],
        "line_nets": [line.net for line in totals.lines], "max_discount_percent": max_discount,
    }


def deal_lines_out(session: Any, deal: Any, lines: list[Any]) -> dict[str, Any]:
    rounding = rounding_for(company_settings(session), deal.currency)
    totals = line_item_service.totals(session, deal, lines)
    nets = line_amounts(lines, rounding)
    items = [line_item_out(line, net) for line, net in zip(lines, nets, strict=True)]
    biggest = max((line.discount_percent for line in lines), default=0)
    return schemas.DealLines(
        deal_id=deal.id, deal_version=deal.version, amount=deal.amount, amount_from_lines=deal.amount_from_lines,
        items=items, totals=totals_out(totals, rounding, biggest),  # type: ignore[arg-type]
    ).model_dump(mode="json")


def line_item_out(line: Any, net: Any) -> schemas.LineItem:
    return schemas.LineItem.model_validate({**{c.key: getattr(line, c.key) for c in line.__table__.columns},
                                            "net_amount": net})


def quote_out(session: Any, quote: Quote) -> dict[str, Any]:
    lines = quote_service.lines(session, quote.id)
    return schemas.QuoteWithLines.model_validate(
        {**schemas.Quote.model_validate(quote).model_dump(), "lines": [schemas.QuoteLine.model_validate(x) for x in lines]}
    ).model_dump(mode="json")


def approval_out(approval: QuoteApproval, quote: Quote | None = None) -> dict[str, Any]:
    data = schemas.QuoteApproval.model_validate(approval).model_dump(mode="json")
    if quote is not None:
        data.update(quote_number=quote.number, quote_revision=quote.revision, quote_title=quote.title,
                    gross_total=str(quote.gross_total), currency=quote.currency, deal_id=str(quote.deal_id))
    return data


# -- line items on deals --


@router.get("/deals/{deal_id}/line-items", response_model=schemas.DealLines, tags=["deals"],
            summary="A deal's line items and their totals")
def deal_line_items(deal_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    deal, lines = line_item_service.lines(session, deal_id, actor=actor)
    return deal_lines_out(session, deal, lines)


@router.post("/deals/{deal_id}/line-items", status_code=201, response_model=schemas.LineItem, tags=["deals"],
             summary="Add a line item to a deal")
def add_line_item(deal_id: uuid.UUID, body: schemas.LineItemCreate, request: Request, session: DbSession,
                  actor: CurrentActor) -> Any:
    """Without `unit_price` the price book prices the line (the deal's account and currency);
    the product gives the name, unit and tax rate unless they are sent."""
    def produce() -> Any:
        line = line_item_service.add(session, deal_id, data=body.model_dump(exclude_unset=True), actor=actor)
        return _one_line(session, line)

    return run_idempotent(request, session, actor, body_bytes(body), 201, produce)


@router.patch("/deals/{deal_id}/line-items/{line_id}", response_model=schemas.LineItem, tags=["deals"],
              summary="Change a line item")
def update_line_item(deal_id: uuid.UUID, line_id: uuid.UUID, body: schemas.LineItemUpdate, request: Request,  # type: ignore[valid-type]
                     session: DbSession, actor: CurrentActor, if_match: IfMatch = None) -> Any:
    def produce() -> Any:
        line = line_item_service.update(session, deal_id, line_id, data=body.model_dump(exclude_unset=True),
                                        actor=actor, expected_version=expected_versions(if_match))
        return _one_line(session, line)

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


def _one_line(session: Any, line: Any) -> dict[str, Any]:
    return line_item_out(line, line_item_service.net_of(session, line)).model_dump(mode="json")


@router.delete("/deals/{deal_id}/line-items/{line_id}", status_code=204, response_model=None, tags=["deals"],
               summary="Remove a line item")
def remove_line_item(deal_id: uuid.UUID, line_id: uuid.UUID, request: Request, session: DbSession,
                     actor: CurrentActor, if_match: IfMatch = None) -> Any:
    def produce() -> None:
        line_item_service.remove(session, deal_id, line_id, actor=actor, expected_version=expected_versions(if_match))

    return run_idempotent(request, session, actor, b"", 204, produce)


@router.put("/deals/{deal_id}/line-items/order", response_model=schemas.DealLines, tags=["deals"],
            summary="Put a deal's line items in a new order")
def reorder_line_items(deal_id: uuid.UUID, body: schemas.LineOrder, request: Request, session: DbSession,
                       actor: CurrentActor) -> Any:
    def produce() -> Any:
        lines = line_item_service.reorder(session, deal_id, body.line_ids, actor=actor)
        deal, _ = line_item_service.lines(session, deal_id, actor=actor)
        return deal_lines_out(session, deal, lines)

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


@router.put("/deals/{deal_id}/amount-mode", response_model=schemas.DealLines, tags=["deals"],
            summary="Make a deal's amount follow its line items, or not")
def set_amount_mode(deal_id: uuid.UUID, body: schemas.AmountMode, request: Request, session: DbSession,
                    actor: CurrentActor, if_match: IfMatch = None) -> Any:
    """`If-Match` names the deal's version. Following: the amount becomes the lines' net
    total now and after every change of a line."""
    def produce() -> Any:
        line_item_service.follow_lines(session, deal_id, follow=body.amount_from_lines, actor=actor,
                                       expected_version=expected_versions(if_match))
        deal, lines = line_item_service.lines(session, deal_id, actor=actor)
        return deal_lines_out(session, deal, lines)

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


# -- quotes --


@router.get("/deals/{deal_id}/quotes", response_model=list[schemas.Quote], tags=["quotes"], summary="A deal's quotes")
def deal_quotes(deal_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return [schemas.Quote.model_validate(q).model_dump(mode="json") for q in quote_service.of_deal(session, deal_id, actor=actor)]


@router.get("/quotes/{quote_id}/lines", response_model=schemas.QuoteWithLines, tags=["quotes"],
            summary="A quote with its lines")
def quote_lines(quote_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    quote = quote_service.get(session, quote_id, actor=actor)
    return _with_etag(quote_out(session, quote), quote.version)


@router.put("/quotes/{quote_id}/lines", response_model=schemas.QuoteWithLines, tags=["quotes"],
            summary="Replace a quote's lines")
def replace_quote_lines(quote_id: uuid.UUID, body: schemas.QuoteLines, request: Request, session: DbSession,
                        actor: CurrentActor, if_match: IfMatch = None) -> Any:
    """Totals are computed here with the rounding the quote keeps. A discount above your
    role's limit makes the quote `pending_approval`; a sent quote answers 409 (revise it)."""
    def produce() -> Any:
        quote = quote_service.set_lines(session, quote_id, [line.model_dump() for line in body.lines], actor=actor,
                                        expected_version=expected_versions(if_match))
        session.flush()
        return quote_out(session, quote)

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


@router.post("/quotes/{quote_id}/revise", status_code=201, response_model=schemas.QuoteWithLines, tags=["quotes"],
             summary="Make the next revision of a quote")
def revise_quote(quote_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor,
                 if_match: IfMatch = None) -> Any:
    def produce() -> Any:
        quote = quote_service.revise(session, quote_id, actor=actor, expected_version=expected_versions(if_match))
        session.flush()
        return quote_out(session, quote)

    return run_idempotent(request, session, actor, b"", 201, produce)


@router.post("/quotes/totals", response_model=schemas.TotalsOut, tags=["quotes"],
             summary="Totals of lines as the quote builder shows them (nothing is saved)")
def preview_totals(body: schemas.TotalsPreview, session: DbSession, actor: CurrentActor) -> Any:
    preview = quote_service.preview(session, body.deal_id, [line.model_dump() for line in body.lines], actor=actor)
    return totals_out(preview.totals, preview.rounding, preview.max_discount)


@router.get("/quotes/{quote_id}/approvals", response_model=list[schemas.QuoteApproval], tags=["quotes"],
            summary="The discount approvals of a quote")
def quote_approvals(quote_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    quote = quote_service.get(session, quote_id, actor=actor)
    return [approval_out(a) for a in approval_service.of_quote(session, quote.id)]


# -- the approval queue --


@router.get("/quote-approvals", response_model=list[schemas.ApprovalQueueItem], tags=["quotes"],
            summary="Discount approval requests on the quotes you see")
def approval_queue(session: DbSession, actor: CurrentActor,
                   status: Literal["pending", "approved", "rejected", "withdrawn", "all"] = "pending") -> Any:
    rows = approval_service.queue(session, actor=actor, status=None if status == "all" else status)
    return [approval_out(approval, quote) for approval, quote in rows]


@router.post("/quote-approvals/{approval_id}/decision", response_model=schemas.QuoteApproval, tags=["quotes"],
             summary="Approve or reject a discount")
def decide_approval(approval_id: uuid.UUID, body: schemas.ApprovalDecision, request: Request, session: DbSession,
                    actor: CurrentActor) -> Any:
    """Managers and admins; nobody decides their own request unless they are an admin."""
    def produce() -> Any:
        approval = approval_service.decide(session, approval_id, decision=body.decision, comment=body.comment, actor=actor)
        return approval_out(approval)

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


# -- company settings --


@router.get("/company-settings", response_model=schemas.CompanySettings, tags=["quotes"],
            summary="Who sells, and how quotes are priced and rounded")
def read_company_settings(session: DbSession, actor: CurrentActor) -> Any:
    settings = company_settings(session)
    return _with_etag(schemas.CompanySettings.model_validate(settings).model_dump(mode="json"), settings.version)


@router.patch("/company-settings", response_model=schemas.CompanySettings, tags=["quotes"],
              summary="Change the company settings (admins)")
def change_company_settings(body: schemas.CompanySettingsUpdate, request: Request, session: DbSession,
                            actor: CurrentActor, if_match: IfMatch = None) -> Any:
    def produce() -> Any:
        settings = update_company_settings(session, body.model_dump(exclude_unset=True), actor=actor,
                                           expected_version=expected_versions(if_match))
        return schemas.CompanySettings.model_validate(settings).model_dump(mode="json")

    return run_idempotent(request, session, actor, body_bytes(body), 200, produce)


def _with_etag(body: dict[str, Any], version: int) -> Any:
    return JSONResponse(body, headers={"ETag": etag(version)})
