"""Settings › Webhooks (admins): endpoints that receive Pipewise's events, each with its
delivery log. A secret is shown on the page that creates or rotates it and never again."""

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.errors import FieldError, PipewiseError
from pipewise.integrations.webhooks import schemas, service
from pipewise.integrations.webhooks.models import WebhookEndpoint
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormState, to_state
from pipewise.web.settings.common import schema_checked, sections_for

router = web_router()
BASE = "/settings/webhooks"
FIELDS = ("url", "event_types", "description")
FLAGS = ("enabled", "ordered")
STATUSES = ("pending", "waiting", "delivered", "failed")


def _typed(form: Any) -> dict[str, str]:
    typed = {name: str(form.get(name) or "").strip() for name in FIELDS}
    typed.update({flag: "on" if form.get(flag) else "" for flag in FLAGS})
    return typed


def _data(typed: dict[str, str]) -> dict[str, Any]:
    return {"url": typed["url"], "description": typed["description"],
            "event_types": [p for p in typed["event_types"].replace(",", " ").split() if p],
            "enabled": bool(typed["enabled"]), "ordered": bool(typed["ordered"])}


def _state_of(endpoint: WebhookEndpoint) -> FormState:
    return FormState(values={"url": endpoint.url, "description": endpoint.description,
                             "event_types": " ".join(endpoint.event_types),
                             "enabled": "on" if endpoint.enabled else "", "ordered": "on" if endpoint.ordered else ""})


def _list_page(request: Request, session: Session, me: WebUser, *, new: FormState | None = None,
               secret: str | None = None, status: int = 200) -> Response:
    context = {"endpoints": service.list_endpoints(session, actor=me.actor), "sections": sections_for(me),
               "new": new or FormState(values={"event_types": "*", "enabled": "on"}), "secret": secret}
    return _no_store(render(request, "settings/webhooks.html", context, status_code=status), secret)


def _no_store(response: Response, secret: str | None) -> Response:
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get(BASE)
def webhooks_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _list_page(request, session, me)


@router.post(BASE)
def create_endpoint(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    service.require_admin(me.actor)
    typed = _typed(form)
    data, errors = schema_checked(schemas.WebhookEndpointCreate, {}, extra=_data(typed))
    if errors:
        return _list_page(request, session, me, new=to_state(typed, errors, FIELDS), status=422)
    endpoint, secret = service.create(session, data, actor=me.actor)
    # Shown in this answer only: not redirected, so the secret never rides in a URL or a flash.
    return _endpoint_page(request, session, me, endpoint.id, secret=secret, status=201)


def _log_filters(request: Request) -> tuple[service.MessageFilter, dict[str, str], list[FieldError]]:
    asked = {k: request.query_params.get(k, "").strip() for k in ("status", "event_type", "since", "until")}
    errors: list[FieldError] = []
    if asked["status"] and asked["status"] not in STATUSES:
        errors.append(FieldError("status", f"must be one of {', '.join(STATUSES)}"))
    moments: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        try:
            moments[name] = datetime.fromisoformat(asked[name]).replace(tzinfo=UTC) if asked[name] else None
        except ValueError:
            errors.append(FieldError(name, "is not a date and time"))
            moments[name] = None
    filters = service.MessageFilter(status=asked["status"] if not errors else None, event_type=asked["event_type"] or None,
                                    since=moments["since"], until=moments["until"], limit=50)
    return filters, asked, errors


def _endpoint_page(request: Request, session: Session, me: WebUser, endpoint_id: uuid.UUID, *,
                   edit: FormState | None = None, secret: str | None = None, status: int = 200) -> Response:
    endpoint = service.get_endpoint(session, endpoint_id, actor=me.actor)
    filters, asked, filter_errors = _log_filters(request)
    messages = service.messages(session, endpoint_id, filters, actor=me.actor)
    attempts = service.attempts_by_message(session, endpoint_id, [m.id for m in messages], actor=me.actor)
    context = {
        "endpoint": endpoint, "edit": edit or _state_of(endpoint), "secret": secret, "sections": sections_for(me),
        "messages": messages, "attempts": attempts, "asked": asked,
        "log_filter": to_state(asked, filter_errors, asked),
    }
    return _no_store(render(request, "settings/webhook.html", context, status_code=status), secret)


@router.get(BASE + "/{endpoint_id}")
def endpoint_page(endpoint_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _endpoint_page(request, session, me, endpoint_id)


@router.post(BASE + "/{endpoint_id}")
def update_endpoint(endpoint_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser,
                    form: PostedForm) -> Response:
    service.get_endpoint(session, endpoint_id, actor=me.actor)
    typed = _typed(form)
    data, errors = schema_checked(schemas.WebhookEndpointUpdate, {}, extra=_data(typed))
    if errors:
        return _endpoint_page(request, session, me, endpoint_id, edit=to_state(typed, errors, FIELDS), status=422)
    service.update(session, endpoint_id, data, actor=me.actor)
    flash(request, "Endpoint saved.")
    return redirect(f"{BASE}/{endpoint_id}")


@router.post(BASE + "/{endpoint_id}/rotate")
def rotate_secret(endpoint_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    secret, _until = service.rotate_secret(session, endpoint_id, actor=me.actor)
    return _endpoint_page(request, session, me, endpoint_id, secret=secret)


@router.post(BASE + "/{endpoint_id}/ping")
def ping(endpoint_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    service.ping(session, endpoint_id, actor=me.actor)
    flash(request, "Test ping queued: it shows in the delivery log below within seconds.")
    return redirect(f"{BASE}/{endpoint_id}")


@router.post(BASE + "/{endpoint_id}/delete")
def delete_endpoint(endpoint_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    service.delete(session, endpoint_id, actor=me.actor)
    flash(request, "Endpoint deleted, with its delivery log.")
    return redirect(BASE)


def _replayed(request: Request, endpoint_id: uuid.UUID, replay: Any) -> Response:
    """Run a replay; a refusal (a disabled endpoint, a bad range) is shown, not raised."""
    try:
        message = replay()
    except PipewiseError as exc:
        flash(request, exc.detail, "error")
    else:
        flash(request, message)
    return redirect(f"{BASE}/{endpoint_id}")


@router.post(BASE + "/{endpoint_id}/messages/{message_id}/replay")
def replay_message(endpoint_id: uuid.UUID, message_id: uuid.UUID, request: Request, session: DbSession,
                   me: CurrentUser) -> Response:
    return _replayed(request, endpoint_id, lambda: (
        service.replay_message(session, endpoint_id, message_id, actor=me.actor)
        and "Message queued again, with the same webhook-id."))


@router.post(BASE + "/{endpoint_id}/replay")
def replay_range(endpoint_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser,
                 form: PostedForm) -> Response:
    def run() -> str:
        data, errors = schema_checked(schemas.ReplayRange, {
            "since": str(form.get("since") or ""), "until": str(form.get("until") or ""),
        }, extra={"only_failed": bool(form.get("only_failed"))})
        if errors:
            raise PipewiseError("; ".join(f"{e.field}: {e.message}" for e in errors))
        since, until = (data[k].replace(tzinfo=data[k].tzinfo or UTC) for k in ("since", "until"))
        count = service.replay_range(session, endpoint_id, since=since, until=until, only_failed=data["only_failed"],
                                     actor=me.actor)
        return f"{count} message{'s' if count != 1 else ''} queued again, each with its own webhook-id."

    return _replayed(request, endpoint_id, run)
