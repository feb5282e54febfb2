"""Every lead route (capture, import, duplicates, scoring, routing) in one router for app.py."""

from fastapi import APIRouter

from pipewise.api.v1 import leads_dedup, leads_forms, leads_import, leads_routing, leads_scoring

router = APIRouter()
router.include_router(leads_forms.public)
for module in (leads_forms, leads_import, leads_dedup, leads_scoring, leads_routing):
    router.include_router(module.router)
