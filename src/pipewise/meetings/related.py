"""The meetings booked about a deal or with a contact, for their record pages."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.meetings.models import Meeting


def meetings_about(session: Session, actor: Actor, *, deal_id: uuid.UUID | None = None,
                   contact_id: uuid.UUID | None = None, limit: int = 20) -> list[Meeting]:
    """Meetings linked to the deal or contact whose host the actor may see, latest first."""
    stmt = select(Meeting)
    if deal_id is not None:
        stmt = stmt.where(Meeting.deal_id == deal_id)
    if contact_id is not None:
        stmt = stmt.where(Meeting.contact_id == contact_id)
    hosts = owner_clause(Meeting.host_id, actor, write=False)
    if hosts is not None:
        stmt = stmt.where(hosts)
    return list(session.scalars(stmt.order_by(Meeting.start_at.desc()).limit(limit)))
