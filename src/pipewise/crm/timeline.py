"""The activities and tasks on a record's timeline."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.crm.models import Activity, Task
from pipewise.records.timeline import TimelineEntry

ACTIVITY_LINK = {"lead": "lead_id", "contact": "contact_id", "account": "account_id", "deal": "deal_id"}


def activities(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    column = getattr(Activity, ACTIVITY_LINK[record_type])
    rows = session.scalars(select(Activity).where(column == record_id).order_by(Activity.occurred_at.desc()).limit(200))
    return [
        TimelineEntry(
            kind="activity",
            at=a.occurred_at,
            title=f"{a.type.capitalize()}{' (' + a.direction + ')' if a.direction else ''}: {a.subject}",
            detail=a.body,
            actor_id=a.owner_id,
            data={"id": str(a.id), "type": a.type, "automated": a.automated},
        )
        for a in rows
    ]


def tasks(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    rows = session.scalars(
        select(Task).where(Task.related_type == record_type, Task.related_id == record_id).order_by(Task.created_at.desc())
    )
    return [
        TimelineEntry(
            kind="task",
            at=t.completed_at or t.created_at,
            title=f"Task {'done' if t.status == 'done' else t.status}: {t.title}",
            detail=f"due {t.due_at:%Y-%m-%d %H:%M} UTC" if t.due_at else None,
            actor_id=t.owner_id,
            data={"id": str(t.id), "status": t.status},
        )
        for t in rows
    ]


