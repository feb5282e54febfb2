"""What every web page module shares: the signed session cookie, CSRF protection, the
logged-in user and their Actor, template rendering, and HTML answers for domain errors.

A page module builds its router with ``web_router()`` and asks for ``CurrentUser``; a
handler that reads a posted form asks for ``PostedForm``. Handlers are plain ``def``:
FastAPI runs them in its thread pool, where the database work belongs::

    router = web_router()

    @router.get("/automation")
    def workflows(request: Request, session: DbSession, me: CurrentUser) -> Response:
        items = workflow_service.list(session, actor=me.actor, query=ListQuery()).items
        return render(request, "automation/list.html", {"workflows": items})
"""

import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.api.deps import READ_METHODS
from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.config import get_settings
from pipewise.db.session import session_scope
from pipewise.errors import NotFound, PermissionDenied, PipewiseError
from pipewise.notifications import service as notifications
from pipewise.people.service import user_service
from pipewise.web import formatting


def get_session(request: Request) -> Iterator[Session]:
    """One session per page request; the request boundary commits (before the response is sent)."""
    with session_scope(write=request.method not in READ_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]

log = logging.getLogger("pipewise.web")

WEB_DIR = Path(__file__).parent
SESSION_COOKIE = "pipewise_session"
SESSION_MAX_AGE = 14 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

templates = Jinja2Templates(directory=WEB_DIR / "templates")
formatting.install(templates.env)


# -- the signed session cookie --


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="pipewise.web.session")


def web_session(request: Request) -> dict[str, Any]:
    """The request's session data (user id, CSRF token, flash messages), read once.
    A visitor without a valid cookie gets a fresh anonymous session with its own token."""
    if not hasattr(request.state, "web_session"):
        data: dict[str, Any] | None = None
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                data = _serializer().loads(raw, max_age=SESSION_MAX_AGE)
            except BadSignature:
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            data = {"csrf": secrets.token_urlsafe(32)}
            request.state.web_session_changed = True
        request.state.web_session = data
    return request.state.web_session


def replace_session(request: Request, *, user: User | None) -> None:
    """Start a new session (on login and logout), so no token outlives the change of user.
    It carries the user's session generation: raising that ends the session."""
    data: dict[str, Any] = {"csrf": secrets.token_urlsafe(32)}
    if user is not None:
        data["uid"] = str(user.id)
        data["gen"] = user.session_generation
    request.state.web_session = data
    request.state.web_session_changed = True


def flash(request: Request, message: str, kind: str = "success") -> None:
    """Show ``message`` on the next page this browser renders."""
    web_session(request).setdefault("flash", []).append([kind, message])
    request.state.web_session_changed = True


def _take_flashes(request: Request) -> list[list[str]]:
    messages = web_session(request).pop("flash", [])
    if messages:
        request.state.web_session_changed = True
    return messages


def _save_session(request: Request, response: Response) -> None:
    if not getattr(request.state, "web_session_changed", False):
        return
    response.set_cookie(
        SESSION_COOKIE,
        _serializer().dumps(request.state.web_session),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
        path="/",
    )


# -- CSRF --


class CsrfRejected(PipewiseError):
    status = 403
    title = "Forbidden"


async def check_csrf(request: Request) -> None:
    """Every unsafe request must echo the session's token, as a form field or a header."""
    if request.method in READ_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = web_session(request)["csrf"]
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected("the form has expired or did not come from this site; reload the page and try again")


# -- the logged-in user --


class LoginRequired(Exception):
    pass


@dataclass(frozen=True)
class WebUser:
    user: User
    actor: Actor
    unread: int = 0  # the bell's count, on every page

    @property
    def id(self) -> uuid.UUID:
        return self.user.id


def session_user(request: Request, session: DbSession) -> User | None:
    """The user this browser's session belongs to, if the session is still current."""
    data = web_session(request)
    user = None
    if data.get("uid"):
        try:
            user = user_service.get(session, uuid.UUID(data["uid"]), actor=SYSTEM_ACTOR)
        except (NotFound, ValueError):
            user = None
    if user is None or not user.is_active or data.get("gen", 0) != user.session_generation:
        return None
    return user


def current_web_user(request: Request, session: DbSession) -> WebUser:
    user = session_user(request, session)
    if user is None:
        raise LoginRequired
    me = WebUser(user=user, actor=Actor.for_user(session, user), unread=notifications.unread_count(session, user.id))
    request.state.web_user = me
    return me


CurrentUser = Annotated[WebUser, Depends(current_web_user)]


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop (a request body arrives asynchronously), so
    the handler that takes it is a plain ``def`` that FastAPI runs in its thread pool."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def require_manager(me: WebUser) -> None:
    if not me.actor.is_manager:
        raise PermissionDenied("only managers and admins may change this")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths may follow a login; anything else goes to ``default``."""
    if not target or any(ch in target for ch in "\\\r\n\t") or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


def _login_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if request.url.path == "/" else f"/login?next={quote(here, safe='/')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


# -- rendering --


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> Response:
    """Render a template with what every page needs: the user, the CSRF token, flashes."""
    me: WebUser | None = getattr(request.state, "web_user", None)
    full = {
        "me": me,
        "csrf_token": web_session(request)["csrf"],
        "csrf_field": CSRF_FIELD,
        "flashes": [] if is_htmx(request) else _take_flashes(request),
        "tz": me.user.timezone if me else "UTC",
        "path": request.url.path,
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, full, status_code=status_code)


def redirect(url: str) -> Response:
    """See Other: after a successful form post the browser GETs ``url``."""
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    if is_htmx(request):
        return render(request, "_error_banner.html", {"title": title, "detail": detail}, status_code=status)
    return render(request, "error.html", {"title": title, "detail": detail, "status": status}, status_code=status)


class WebRoute(APIRoute):
    """Route class of every web page: checks CSRF, sends the logged-out to /login, turns
    domain errors into HTML pages instead of JSON, and writes the session cookie."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def web_handler(request: Request) -> Response:
            try:
                await check_csrf(request)
                response = await handler(request)
            except LoginRequired:
                response = _login_redirect(request)
            except PipewiseError as exc:
                response = error_page(request, exc.status, exc.title, exc.detail)
            except RequestValidationError:
                response = error_page(request, 404, "Not found", "That address does not point to anything here.")
            except IntegrityError as exc:
                log.info("integrity error on %s: %s", request.url.path, exc.orig)
                response = error_page(request, 409, "Conflict", "The change conflicts with existing data.")
            _save_session(request, response)
            return response

        return web_handler


def web_router(**kwargs: Any) -> APIRouter:
    """The router for a page module: HTML errors, CSRF and the session cookie built in."""
    return APIRouter(route_class=WebRoute, include_in_schema=False, **kwargs)
