"""The line items of a deal, as a section of the deal's page (loaded into it by htmx) and
as a page of its own without script. Every change goes through the line item service and
the section comes back with the totals the server computed."""

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import PreconditionFailed, ValidationFailed
from pipewise.quotes.catalogue import quote_template_service
from pipewise.quotes.line_items import line_amounts, line_item_service
from pipewise.quotes.service import quote_service
from pipewise.quotes.settings import company_settings, rounding_for
from pipewise.records.repository import ListQuery
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, is_htmx, redirect, render, web_router
from pipewise.web.forms import parse_uuid
from pipewise.web.quotes.common import line_messages, products, read_line

router = web_router()


def section(request: Request, session: Session, me: WebUser, deal_id: uuid.UUID, *, problems: list[str] | None = None,
            typed: dict[str, Any] | None = None, status: int = 200) -> Response:
    deal, lines = line_item_service.lines(session, deal_id, actor=me.actor)
    rounding = rounding_for(company_settings(session), deal.currency)
    templates = quote_template_service.list(session, actor=me.actor, query=ListQuery(sort="name", limit=100)).items
    context = {
        "deal": deal, "rows": list(zip(lines, line_amounts(lines, rounding), strict=True)),
        "totals": line_item_service.totals(session, deal, lines), "products": products(session, me.actor),
        "quotes": quote_service.of_deal(session, deal.id, actor=me.actor), "templates": templates,
        "problems": problems or [], "typed": typed or {},
    }
    template = "quotes/_deal_lines.html" if is_htmx(request) else "quotes/deal_lines.html"
    return render(request, template, context, status_code=status)


def _after(request: Request, session: Session, me: WebUser, deal_id: uuid.UUID, change: Any,
           typed: dict[str, Any] | None = None) -> Response:
    """Run ``change``; show the section again (with the problems, nothing saved, if any)."""
    try:
        with session.begin_nested():
            change()
    except ValidationFailed as exc:
        return section(request, session, me, deal_id, problems=line_messages(exc.errors) or [exc.detail],
                       typed=typed, status=422)
    except PreconditionFailed as exc:
        return section(request, session, me, deal_id, problems=[exc.detail], status=412)
    if is_htmx(request):
        return section(request, session, me, deal_id)
    return redirect(f"/deals/{deal_id}")


@router.get("/deals/{deal_id}/line-items")
def deal_lines(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return section(request, session, me, deal_id)


@router.post("/deals/{deal_id}/line-items")
def add_line(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    errors: list[Any] = []
    line = read_line(form, "new-", errors, "New line")
    typed = {k: str(form.get("new-" + k) or "") for k in ("name", "quantity", "unit_price", "discount_percent", "tax_rate",
                                                          "product_id")}
    if errors or line is None:
        problems = line_messages(errors) if errors else ["Choose a product or type a name for the new line."]
        return section(request, session, me, deal_id, problems=problems, typed=typed, status=422)
    data = {k: v for k, v in line.items() if k not in ("optional", "selected") and v is not None}
    return _after(request, session, me, deal_id,
                  lambda: line_item_service.add(session, deal_id, data=data, actor=me.actor), typed)


@router.post("/deals/{deal_id}/line-items/{line_id}")
def change_line(deal_id: uuid.UUID, line_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser,
                form: PostedForm) -> Response:
    errors: list[Any] = []
    line = read_line(form, "", errors, "Line")
    if errors or line is None:
        return section(request, session, me, deal_id, problems=line_messages(errors) or ["A line needs a name."], status=422)
    data = {k: line[k] for k in ("quantity", "discount_percent") if line[k] is not None}
    if line["unit_price"] is not None and str(form.get("unit_price") or "").strip() != str(form.get("shown_price") or ""):
        data["unit_price"] = line["unit_price"]  # typed by hand; left as shown, the book may reprice a new quantity
    version = str(form.get("version") or "")
    expected = int(version) if version.isdigit() else None
    return _after(request, session, me, deal_id, lambda: line_item_service.update(
        session, deal_id, line_id, data=data, actor=me.actor, expected_version=expected))


@router.post("/deals/{deal_id}/line-items/{line_id}/delete")
def remove_line(deal_id: uuid.UUID, line_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _after(request, session, me, deal_id, lambda: line_item_service.remove(session, deal_id, line_id, actor=me.actor))


@router.post("/deals/{deal_id}/line-items/{line_id}/move")
def move_line(deal_id: uuid.UUID, line_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser,
              form: PostedForm) -> Response:
    def move() -> None:
        _deal, lines = line_item_service.lines(session, deal_id, actor=me.actor)
        ids = [line.id for line in lines]
        if line_id not in ids:
            return
        index = ids.index(line_id)
        other = index - 1 if form.get("direction") == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            line_item_service.reorder(session, deal_id, ids, actor=me.actor)

    return _after(request, session, me, deal_id, move)


@router.post("/deals/{deal_id}/amount-mode")
def amount_mode(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    follow = form.get("amount_from_lines") == "on"
    return _after(request, session, me, deal_id,
                  lambda: line_item_service.follow_lines(session, deal_id, follow=follow, actor=me.actor))


@router.post("/deals/{deal_id}/quotes")
def create_quote(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    data: dict[str, Any] = {"deal_id": deal_id}
    template_id = parse_uuid(str(form.get("template_id") or ""))
    if template_id is not None:
        data["template_id"] = template_id
    try:
        with session.begin_nested():
            quote = quote_service.create(session, data=data, actor=me.actor)
            session.flush()
    except ValidationFailed as exc:
        return section(request, session, me, deal_id, problems=line_messages(exc.errors) or [exc.detail], status=422)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": f"/quotes/{quote.id}"})
    return redirect(f"/quotes/{quote.id}")
