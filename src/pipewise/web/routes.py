"""The server-rendered web UI (Jinja2 + HTMX).

Each page module exposes ``router`` (built with ``web.common.web_router``) and is listed
in ``PAGE_MODULES``; its templates live in ``web/templates/<area>/`` and extend
``base.html``. Adding a page area is one line here and one nav line in base.html."""

from importlib import import_module

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pipewise.web.common import WEB_DIR

PAGE_MODULES: tuple[str, ...] = (
    "pipewise.web.auth",
    "pipewise.web.home",
    "pipewise.web.deals",
    "pipewise.web.leads",
    "pipewise.web.leads_pages",
    "pipewise.web.records",
    "pipewise.web.saved_views",
    "pipewise.web.automation",
    "pipewise.web.sequences",
    "pipewise.web.sequences_steps",
    "pipewise.web.sequences_enrollments",
    "pipewise.web.sequences_today",
    "pipewise.web.sequences_mail",
)


def install(app: FastAPI) -> None:
    """Mount the web UI's routes and static files on ``app``."""
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    for module_name in PAGE_MODULES:
        app.include_router(import_module(module_name).router)
