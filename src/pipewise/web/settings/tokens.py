"""Settings › API tokens: everyone manages their own (admins see and revoke everyone's).
A new token is shown on the page that creates it and never again; only its hash is kept."""

import uuid

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pipewise.people import schemas as people_schemas
from pipewise.people.queries import api_tokens
from pipewise.people.service import token_service
from pipewise.web.common import CurrentUser, DbSession, PostedForm, WebUser, flash, redirect, render, web_router
from pipewise.web.forms import FormState, to_state
from pipewise.web.settings.common import schema_checked, sections_for

router = web_router()


def _page(request: Request, session: Session, me: WebUser, *, new: FormState | None = None,
          secret: str | None = None, status: int = 200) -> Response:
    context = {
        "tokens": api_tokens(session, None if me.actor.is_admin else me.id),
        "new": new or FormState(),
        "secret": secret,
        "sections": sections_for(me),
    }
    return render(request, "settings/tokens.html", context, status_code=status)


@router.get("/settings/tokens")
def tokens_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
    return _page(request, session, me)


@router.post("/settings/tokens")
def create_token(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
    typed = {"name": str(form.get("name") or "").strip()}
    data, errors = schema_checked(people_schemas.TokenCreate, typed)
    if errors:
        return _page(request, session, me, new=to_state(typed, errors, ["name"]), status=422)
    _token, secret = token_service.create(session, user=me.user, **data)
    # Shown in this answer only: not redirected, so the secret never rides in a URL or a flash.
    response = _page(request, session, me, secret=secret, status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(token_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    token_service.revoke(session, token_id=token_id, user=me.user)
    flash(request, "Token revoked: requests that send it are refused from now on.")
    return redirect("/settings/tokens")
