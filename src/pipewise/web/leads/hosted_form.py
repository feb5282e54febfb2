"""A lead form's own page (``/f/{key}``), for a link or a QR code rather than an embed: the
form, its thank-you page, and the answer to a browser's post that did not land — the
form again with what was typed and each reason next to its field. (The post itself is
the public capture endpoint, ``api/v1/leads_forms.py``.)"""

from typing import Any

from fastapi import Request, Response

from pipewise.api.v1.leads_forms import BrowserPostFailed
from pipewise.db.session import session_scope
from pipewise.errors import NotFound
from pipewise.leads import capture
from pipewise.leads.models import LeadForm
from pipewise.web.common import DbSession, error_page, render, web_router

router = web_router()


def _page(request: Request, form: LeadForm, *, values: dict[str, Any], errors: dict[str, str],
          general: list[str], status_code: int = 200) -> Response:
    return render(request, "leads/hosted_form.html", {
        "form": form, "key": form.key, "fields": capture.fields_of(form), "hidden": capture.hidden_fields_of(form),
        "values": values, "errors": errors, "general": general, "consent_field": capture.CONSENT_FIELD,
        "trap_field": capture.HONEYPOT_FIELD,
    }, status_code=status_code)


@router.get("/f/{form_key}")
def hosted_form(form_key: str, request: Request, session: DbSession) -> Response:
    form = capture.form_view(session, form_key)
    # A link may carry its campaign (?utm_source=…): the hidden fields keep it for the post.
    values = {name: request.query_params[name][:500] for name in capture.hidden_fields_of(form) if name in request.query_params}
    return _page(request, form, values=values, errors={}, general=[])


@router.get("/f/{form_key}/thanks")
def thanks(form_key: str, request: Request, session: DbSession) -> Response:
    return render(request, "leads/hosted_thanks.html", {"form": capture.form_view(session, form_key)})


def failed_post(request: Request, failure: Exception) -> Response:
    """The answer to a browser's failed post (an exception handler: plain ``def``, run in the pool)."""
    assert isinstance(failure, BrowserPostFailed)
    error = failure.error
    with session_scope(write=False) as session:
        try:
            form = capture.form_view(session, failure.form_key)
        except NotFound as exc:
            return error_page(request, exc.status, "Form not found", exc.detail)
        known = {field.name for field in capture.fields_of(form)} | {capture.CONSENT_FIELD}
        errors = {e.field: e.message for e in error.errors if e.field in known}
        general = [f"{e.field}: {e.message}" for e in error.errors if e.field not in known] or ([] if errors else [error.detail])
        values = {k: str(v) for k, v in failure.fields.items() if k != capture.HONEYPOT_FIELD}
        response = _page(request, form, values=values, errors=errors, general=general, status_code=error.status)
    if retry_after := getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(retry_after)
    return response
