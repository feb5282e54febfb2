"""The Settings area: people, teams, pipelines, custom fields, products and price books, lead forms, scoring and
routing rules and API tokens, each page a thin form over its domain's service; the areas
that already have pages (mailboxes, notifications, company) are linked from the same menu."""

from fastapi import APIRouter

from pipewise.web.settings import catalogue, fields, lead_forms, lead_rules, people, pipelines, tokens, welcome

router = APIRouter()
for module in (people, pipelines, fields, catalogue, lead_forms, lead_rules, tokens, welcome):
    router.include_router(module.router)
