"""The buyer's page of a sent quote, reached by the signed link in the e-mail, no log-in:
the quote with its optional lines (totals recomputed on the server as they are ticked),
the exact PDF, and the accept and decline forms.

The forms carry the site's CSRF token (the anonymous session every visitor gets), each
client address may open the page 60 times and post 10 answers a minute (per process),
and every refusal of the link (forged, run out, replaced, expired, already answered) is
a page that says what happened, with its 4xx status."""

import base64
import binascii
from typing import Any

from fastapi import Request, Response

from pipewise.auth.clients import client_address
from pipewise.db.session import session_scope
from pipewise.errors import PipewiseError, ValidationFailed
from pipewise.quotes import acceptance
from pipewise.quotes.settings import company_settings
from pipewise.ratelimit import RateLimit
from pipewise.web.common import PostedForm, redirect, render, web_router

router = web_router()

SIGNATURE_FIELD_LIMIT = 300_000  # characters of the data URL (the PNG itself is checked by the service)


VIEWS = RateLimit(60)
ANSWERS = RateLimit(10)


def _refused(request: Request, status: int, title: str, detail: str, **headers: str) -> Response:
    response = render(request, "quotes/public_refused.html", {"title": title, "detail": detail, "status": status}, status_code=status)
    response.headers.update(headers)
    return response


def _limited(request: Request, limit: RateLimit) -> Response | None:
    wait = limit.retry_after(client_address(request))
    if wait is None:
        return None
    return _refused(request, 429, "Too many requests", f"Please wait {wait} seconds and try again.", **{"Retry-After": str(wait)})


def _page(session: Any, opened: acceptance.Opened, ticked: set[str]) -> dict[str, Any]:
    quote = opened.quote
    chosen = {line.id: line.selected for line in opened.lines} if opened.answered else acceptance.selection(opened.lines, ticked)
    return {
        "quote": quote,
        "lines": opened.lines,
        "chosen": chosen,
        "totals": acceptance.totals_for(quote, opened.lines, chosen),
        "answer": acceptance.response_of(session, quote.id) if opened.answered else None,
        "expired": acceptance.is_past_validity(quote),
        "company": company_settings(session),
        "money": lambda amount, currency: acceptance.money_text(amount, currency, quote.language),
        "number": lambda value: acceptance.number_text(value, quote.language),
    }


def _default_ticks(opened: acceptance.Opened) -> set[str]:
    return {line.id.hex for line in opened.lines if line.optional and line.selected}


@router.get("/q/{token}")
def quote_page(token: str, request: Request) -> Response:
    limited = _limited(request, VIEWS)
    if limited:
        return limited
    try:
        with session_scope() as session:
            opened = acceptance.record_view(session, token)
            context = _page(session, opened, _default_ticks(opened))
    except PipewiseError as exc:
        return _refused(request, exc.status, exc.title, exc.detail)
    if context["expired"] and not opened.answered:
        quote = context["quote"]
        return _refused(request, 410, "This quote has expired", f"Quote {quote.number} was valid until {quote.valid_until:%d %B %Y}. Ask your contact for a new one.")
    return render(request, "quotes/public_quote.html", {**context, "token": token, "errors": {}, "form": {}})


@router.get("/q/{token}/totals")
def quote_totals(token: str, request: Request) -> Response:
    """The totals for the ticked optional lines (``?line=<id>&line=…``), as a fragment."""
    limited = _limited(request, VIEWS)
    if limited:
        return limited
    ticked = set(request.query_params.getlist("line"))
    try:
        with session_scope(write=False) as session:
            context = _page(session, acceptance.open_link(session, token), ticked)
    except PipewiseError as exc:
        return _refused(request, exc.status, exc.title, exc.detail)
    return render(request, "quotes/public_totals.html", context)


@router.get("/q/{token}/pdf")
def quote_pdf(token: str, request: Request) -> Response:
    """The exact PDF that was sent (its SHA-256 is what an acceptance records)."""
    limited = _limited(request, VIEWS)
    if limited:
        return limited
    try:
        with session_scope(write=False) as session:
            quote = acceptance.open_link(session, token).quote
            pdf, name = quote.pdf or b"", f"{quote.number}-r{quote.revision}.pdf"
    except PipewiseError as exc:
        return _refused(request, exc.status, exc.title, exc.detail)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _signature(value: str) -> bytes | None:
    """A canvas data URL (``data:image/png;base64,…``) as PNG bytes."""
    if not value:
        return None
    if len(value) > SIGNATURE_FIELD_LIMIT:
        raise ValidationFailed.on("signature", "the drawn signature is too large")
    head, _, data = value.partition(",")
    if head != "data:image/png;base64":
        raise ValidationFailed.on("signature", "is not a PNG image")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.on("signature", "is not a PNG image") from None


def _answer(request: Request, form: PostedForm) -> acceptance.Answer:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return acceptance.Answer(
        ticked=frozenset(v for v in form.getlist("line") if isinstance(v, str)),
        signer_name=text("signer_name"),
        signature_png=_signature(text("signature")),
        reason=text("reason"),
        ip_address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )


def _answer_post(token: str, request: Request, form: PostedForm, decide: Any) -> Response:
    limited = _limited(request, ANSWERS)
    if limited:
        return limited
    try:
        answer = _answer(request, form)
        with session_scope() as session:
            decide(session, token, answer)
    except ValidationFailed as exc:
        return _invalid(token, request, form, exc)
    except PipewiseError as exc:
        return _refused(request, exc.status, exc.title, exc.detail)
    return redirect(f"/q/{token}")


def _invalid(token: str, request: Request, form: PostedForm, exc: ValidationFailed) -> Response:
    """The page again, with what the buyer typed and what is missing."""
    ticked = {v for v in form.getlist("line") if isinstance(v, str)}
    try:
        with session_scope(write=False) as session:
            context = _page(session, acceptance.open_link(session, token), ticked)
    except PipewiseError as refused:
        return _refused(request, refused.status, refused.title, refused.detail)
    errors = {e.field: e.message for e in exc.errors}
    typed = {k: form.get(k) for k in ("signer_name", "reason")}
    return render(request, "quotes/public_quote.html", {**context, "token": token, "errors": errors, "form": typed}, status_code=422)


@router.post("/q/{token}/accept")
def accept_quote(token: str, request: Request, form: PostedForm) -> Response:
    return _answer_post(token, request, form, acceptance.accept)


@router.post("/q/{token}/decline")
def decline_quote(token: str, request: Request, form: PostedForm) -> Response:
    return _answer_post(token, request, form, acceptance.decline)
