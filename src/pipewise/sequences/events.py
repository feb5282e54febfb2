"""The tasks automation hands to people, inserted directly (not through the validating
services) so an admin's required custom field can never stop a sequence from recording
what it did; they still get history and events."""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from pipewise.crm.models import Task
from pipewise.db.base import uuid7
from pipewise.mail.events import add_activity, emit, record_created  # noqa: F401 - sequences record e-mail events through mail
from pipewise.sequences import clock


def add_task(
    session: Session, *, title: str, owner_id: uuid.UUID | None, contact_id: uuid.UUID, notes: str | None = None,
    due_at: datetime | None = None, priority: str = "normal",
) -> Task:
    fields = {
        "title": title[:300],
        "notes": notes,
        "due_at": due_at or clock.now(),
        "owner_id": owner_id,
        "related_type": "contact",
        "related_id": contact_id,
        "priority": priority,
        "status": "open",
    }
    task = Task(id=uuid7(), **fields)
    session.add(task)
    record_created(session, task, "task", fields)
    return task
