"""A deal's health on its page: the card the deal page loads beside its details."""

import uuid

from fastapi import Request, Response

from pipewise.deals import health as deal_health
from pipewise.deals.service import deal_service
from pipewise.web.common import CurrentUser, DbSession, render, web_router

router = web_router()


@router.get("/deals/{deal_id}/health")
def health_card(deal_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    deal = deal_service.get(session, deal_id, actor=me.actor)
    return render(request, "deals/_health_card.html", {"deal": deal, "found": deal_health.assess(session, [deal]).get(deal.id)})
