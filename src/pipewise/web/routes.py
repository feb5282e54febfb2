"""The server-rendered web UI (Jinja2 + HTMX).

The package mirrors ``templates/``: an area's pages live in ``web/<area>/`` (``records``,
``board``, ``leads``, ``mail``, ``sequences``, ``automation``) and render
``templates/<area>/``. The top level holds what every page shares (``common``, ``forms``,
``formatting``, ``lookups``, ``headers``) and the pages whose templates sit at the root
(``auth``, ``home``).

Each page module exposes ``router`` (built with ``web.common.web_router``). The pages every
domain shares are listed here; a domain adds its own from its ``domain.py`` (``kernel.web``)."""

from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pipewise.kernel import resolve
from pipewise.web import site
from pipewise.web.common import WEB_DIR

# Before the domains' pages: sign-in, home, the notification inbox, search, background work, the
# audit trail and the settings. After them: the generic record pages.
FIRST_PAGES = (
    "pipewise.web.auth:router", "pipewise.web.home:router", "pipewise.web.notifications.pages:router",
    "pipewise.web.search.pages:router", "pipewise.web.jobs.pages:router", "pipewise.web.audit.pages:router",
    "pipewise.web.settings:router",
)
LAST_PAGES = ("pipewise.web.records.pages:router", "pipewise.web.records.saved_views:router")


def install(app: FastAPI, domain_pages: Iterable[str]) -> None:
    """Mount the web UI's routes and static files on ``app``."""
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    site.install(app)
    for target in (*FIRST_PAGES, *domain_pages, *LAST_PAGES):
        app.include_router(resolve(target))
