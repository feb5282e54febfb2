"""Every lead route (capture, import, duplicates, scoring, routing) in one router for app.py."""

from fastapi import APIRouter

from pipewise.api.v1 import leads_forms

router = APIRouter()
router.include_router(leads_forms.public)
router.include_router(leads_forms.router)
