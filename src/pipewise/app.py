"""create_app(): the REST API, the web UI and, on SQLite, the in-process worker."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.telemetry import TelemetryConfig

from pipewise import __version__, domains
from pipewise.api import errors
from pipewise.api import routes as api
from pipewise.api.limits import RequestLimits
from pipewise.api.route_memo import remember_route_matches
from pipewise.origin import RequestOrigin
from pipewise.auth.clients import trusted_networks
from pipewise.config import get_settings
from pipewise.web import routes as web
from pipewise.web.headers import API_DOCS_HTML, API_DOCS_PATH, SecurityHeaders

log = logging.getLogger("pipewise")


# FastAPI's own OpenTelemetry spans, metrics and logs: unless asked for, no request looks up
# OpenTelemetry's providers to find them unconfigured (2–3 % of a create's CPU, in pairs).
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def create_app(*, start_worker: bool | None = None) -> FastAPI:
    settings = get_settings()
    trusted_networks(settings.trusted_proxies)  # a bad PIPEWISE_TRUSTED_PROXIES fails here, at start
    kernel = domains.load()
    run_worker = settings.run_inprocess_worker if start_worker is None else start_worker

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker:
            from pipewise.worker.runner import Worker

            # It shares the interpreter lock with the requests, which a batch worked out
            # ahead of its write transaction would not free: that would only add reads.
            worker = Worker(name="in-process", look_ahead=False)
            worker.start_in_thread(poll_seconds=settings.worker_poll_seconds)
        # What start-up loaded (modules, models, schemas, routes: about 250,000 objects)
        # lives as long as the process. Frozen, the cyclic garbage collector's full passes
        # skip it; otherwise one walks it all every few requests that allocate much (more
        # than half the time of a 500-record bulk write went to them). Both calls are cheap.
        gc.freeze()
        yield
        gc.unfreeze()
        if worker is not None:
            worker.stop()

    app = FastAPI(
        title="Pipewise",
        version=__version__,
        summary="Sales CRM and automation that follows the deal.",
        docs_url=None,  # served below, without inline script
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    errors.install(app)
    app.add_middleware(RequestLimits)
    app.add_middleware(RequestOrigin)
    # Added last, so outermost: a refusal by the limits carries the headers too.
    app.add_middleware(SecurityHeaders)
    app.add_api_route(API_DOCS_PATH, lambda: HTMLResponse(API_DOCS_HTML), include_in_schema=False)
    api.install(app, kernel)
    web.install(app, kernel.web_pages)
    remember_route_matches(app)
    return app
