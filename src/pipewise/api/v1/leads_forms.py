"""Lead capture over HTTP: the public form endpoint (POST /f/{key}, form-encoded or JSON),
form set-up with its embeddable snippet, and capture of a lead through the API."""

import json
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.api.errors import problem
from pipewise.auth.clients import client_address
from pipewise.db.base import utcnow
from pipewise.db.session import session_scope
from pipewise.errors import FieldError, PermissionDenied, PipewiseError, ValidationFailed
from pipewise.leads import capture, queries
from pipewise.leads import schemas as lead_schemas
from pipewise.leads.models import LeadForm
from pipewise.schemas import InputModel, OutputModel, RecordOut, partial

router = api_router(tags=["lead capture"])
# Mounted at the site root, not under /api/v1: a hosted form posts to /f/{key} without a token.
root_router = api_router(tags=["lead capture"])


class FormCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    field_map: dict[str, str]
    required_fields: list[str] = []
    hidden_fields: list[Annotated[str, Field(max_length=60)]] = []
    source: Annotated[str, Field(max_length=60)] = "web form"
    consent_text: Annotated[str, Field(max_length=2000)] | None = None
    consent_required: bool = False
    success_message: Annotated[str, Field(max_length=300)] = "Thank you — we will be in touch."
    redirect_url: Annotated[str, Field(max_length=500, pattern=r"^https?://")] | None = None
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=10000)] = 10
    is_active: bool = True


FormUpdate = partial(FormCreate, "FormUpdate")


class Form(RecordOut):
    key: str
    name: str
    field_map: dict[str, str]
    required_fields: list[str]
    hidden_fields: list[str]
    source: str
    consent_text: str | None
    consent_required: bool
    success_message: str
    redirect_url: str | None
    rate_limit_per_minute: int
    is_active: bool


class CaptureIn(lead_schemas.LeadCreate):
    last_name: Annotated[str, Field(max_length=100)] | None = None  # type: ignore[assignment]
    full_name: Annotated[str, Field(max_length=200)] | None = None


class CaptureOut(OutputModel):
    lead: lead_schemas.Lead
    is_new: bool


class SubmitOut(OutputModel):
    ok: bool
    message: str


def _manager(actor: Any) -> None:
    if not actor.is_manager:
        raise PermissionDenied("only managers and admins may set up forms")


@router.get("/lead-forms", response_model=list[Form], summary="List web forms")
def list_forms(session: DbSession, actor: CurrentActor) -> Any:
    return queries.lead_forms(session)


@router.post("/lead-forms", response_model=Form, status_code=201, summary="Create a web form")
def create_form(body: FormCreate, session: DbSession, actor: CurrentActor) -> Any:
    _manager(actor)
    return capture.create_form(session, body.model_dump(), actor=actor)


@router.get("/lead-forms/{form_id}", response_model=Form)
def read_form(form_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return queries.lead_form(session, form_id)


@router.patch("/lead-forms/{form_id}", response_model=Form)
def update_form(form_id: uuid.UUID, body: FormUpdate, session: DbSession, actor: CurrentActor) -> Any:  # type: ignore[valid-type]
    _manager(actor)
    return capture.update_form(session, queries.lead_form(session, form_id), body.model_dump(exclude_unset=True), actor=actor)


@router.get("/lead-forms/{form_id}/snippet", response_class=HTMLResponse, summary="HTML to embed the form")
def form_snippet(form_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor) -> Any:
    return HTMLResponse(capture.snippet(queries.lead_form(session, form_id), str(request.base_url)), media_type="text/plain")


@router.post("/leads/capture", response_model=CaptureOut, summary="Capture a lead (de-duplicated, scored, routed)")
def capture_lead(body: CaptureIn, session: DbSession, actor: CurrentActor) -> Any:
    data = body.model_dump(exclude_unset=True)
    attribution = data.pop("attribution", None)
    if not (data.get("email") or data.get("last_name") or data.get("full_name")):
        raise ValidationFailed("give a name or an e-mail", errors=[FieldError("last_name", "give a name or an e-mail")])
    result = capture.capture(session, data, actor=actor, attribution=attribution)
    session.flush()
    return JSONResponse(
        {"lead": lead_schemas.Lead.model_validate(result.lead).model_dump(mode="json"), "is_new": result.is_new},
        status_code=201 if result.is_new else 200,
    )


async def posted_fields(request: Request) -> dict[str, Any]:
    """A form post's fields, form-encoded (a browser) or JSON (a script), read on the event loop."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValidationFailed.on("body", "is not valid JSON") from None
        if not isinstance(body, dict):
            raise ValidationFailed.on("body", "must be a JSON object of field names and values")
        return body
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _receive(form_key: str, fields: dict[str, Any], ip: str | None) -> LeadForm:
    """Check and clean the post first, then take the write lock only for the writing: the
    lock is held for the inserts, not for e-mail or phone validation."""
    received = utcnow()
    with session_scope(write=False) as session:
        form = capture.form_view(session, form_key)
    post = capture.prepare(form, fields, received=received)
    with session_scope() as session:
        capture.write(session, post, ip=ip)
    return form


class BrowserPostFailed(Exception):
    """A person's browser posted a hosted form and it did not land (a field to fix, too many
    posts, no such form). The web pages answer it with the form again, the reasons next to
    the fields (``web/leads/hosted_form.py``); a program gets problem details instead."""

    def __init__(self, form_key: str, fields: dict[str, Any], error: PipewiseError) -> None:
        super().__init__(error.detail)
        self.form_key, self.fields, self.error = form_key, fields, error


def wants_json(request: Request) -> bool:
    return "json" in request.headers.get("accept", "") or request.headers.get("content-type", "").startswith("application/json")


@root_router.post("/f/{form_key}", response_model=SubmitOut, summary="Submit a public web form")
def submit_form(form_key: str, request: Request, fields: Annotated[dict[str, Any], Depends(posted_fields)]) -> Response:
    """Form-encoded (a browser) or JSON (a script). No token: the form key is the address.
    A browser is sent to a thank-you page (or the form's own address); JSON answers JSON."""
    as_json = wants_json(request)
    try:
        form = _receive(form_key, fields, client_address(request))
    except capture.RateLimited as exc:
        if not as_json:
            raise BrowserPostFailed(form_key, fields, exc) from None
        response = problem(429, exc.title, exc.detail)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except PipewiseError as exc:
        if as_json:
            raise
        raise BrowserPostFailed(form_key, fields, exc) from None
    if as_json:
        return JSONResponse({"ok": True, "message": form.success_message}, status_code=201)
    return RedirectResponse(form.redirect_url or f"/f/{form_key}/thanks", status_code=303)
