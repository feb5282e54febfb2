"""A contact's deals (through the deal's contact links), for the contact's page."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealContact
from pipewise.deals.service import deal_service


def deals_of_contact(session: Session, actor: Actor, contact_id: uuid.UUID, *, limit: int) -> list[Any]:
    """The deals the contact is on that the actor may see, open and newest first."""
    stmt = (
        select(Deal)
        .join(DealContact, DealContact.deal_id == Deal.id)
        .where(DealContact.contact_id == contact_id)
        .order_by(Deal.closed_at.is_not(None), Deal.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(deal_service.repository(session).visible(stmt, actor)))
