"""What the site answers outside its page routes: the styled error page for an address
that names nothing (the API keeps its problem details), a hosted form's failed browser
post, the favicon at the address
browsers ask for by themselves, and the API docs' assets, served from the installed
Swagger UI package so the docs work without reaching any other site."""

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from pipewise.api.errors import http_problem
from pipewise.api.v1.leads_forms import BrowserPostFailed
from pipewise.db.session import session_scope
from pipewise.web.common import WEB_DIR, LoginRequired, current_web_user, error_page
from pipewise.web.headers import API_DOCS_ASSETS
from pipewise.web.leads import hosted_form

PAGE_ERRORS = {
    404: ("Page not found", "That address does not point to anything here. It may have moved, or the link is mistyped."),
    405: ("Not available here", "This address does not answer that kind of request."),
}


def wants_page(request: Request) -> bool:
    """A person's browser, not a program: any address outside the API, unless JSON is asked for."""
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    return "json" not in accept


def _error_page_for(request: Request, status: int) -> Response:
    title, detail = PAGE_ERRORS[status]
    with session_scope(write=False) as session:
        try:
            current_web_user(request, session)  # a signed-in person keeps their menu
        except LoginRequired:
            pass
        return error_page(request, status, title, detail)


def on_http_error(request: Request, exc: Exception) -> Response:
    """Plain ``def``: Starlette runs a synchronous handler in its thread pool (the page reads the session's user)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in PAGE_ERRORS and wants_page(request):
        return _error_page_for(request, exc.status_code)
    return http_problem(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(BrowserPostFailed, hosted_form.failed_post)
    app.mount(API_DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(WEB_DIR / "static" / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=86400"})
