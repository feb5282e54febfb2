"""The REST API's routes, mounted in one place.

Every API router declares only its resource paths (``APIRouter(prefix="/lead-imports")``,
``@router.get("/routing/rules")``); ``install`` mounts them all under ``/api/v1``: the
kernel's (saved views, the notification inbox, the record actions, CRUD and bulk writes for every registered
record type) and each domain's (``kernel.api``). The few public addresses that live outside the API (a
hosted form posts to ``/f/{key}``) are a domain's ``kernel.root_api`` routers, mounted
at the site root."""

from fastapi import FastAPI

from pipewise.api.v1 import actions, audit, bulk, exports, notifications, records, saved_views, search
from pipewise.kernel import Kernel, resolve

API_V1 = "/api/v1"


def install(app: FastAPI, kernel: Kernel) -> None:
    resources = kernel.crud_resources
    kernel_routers = (saved_views.router, notifications.router, audit.router, search.router, actions.router,
                      exports.export_routes(resources), records.crud_routes(resources), bulk.bulk_routes(resources))
    for router in (*kernel_routers, *map(resolve, kernel.api_routers)):
        app.include_router(router, prefix=API_V1)
    for target in kernel.root_api_routers:
        app.include_router(resolve(target))
