"""After a meeting ends, its host gets a "Log the outcome" task; the quick outcomes are
held, no-show (``service.set_outcome``: ``meeting.held`` / ``meeting.no_show``, sales
signals for sequences, workflows and webhooks) and rescheduled (the meeting moves). Any
of them closes the task, from the worker.
The task comes from a durable timer at the meeting's end (``meeting-outcome:<meeting>:<end>``),
moved by a reschedule and removed by a cancel like the reminders."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.crm.service import task_service
from pipewise.db.base import utcnow
from pipewise.events.models import ScheduledAction
from pipewise.meetings.models import ACTIVE_STATUSES, Meeting
from pipewise.meetings.reminders import arm, cancel_stale
from pipewise.runs.timers import timer_key

KIND = "meeting.outcome_due"
PREFIX = "meeting-outcome"


def outcome_key(meeting: Meeting) -> str:
    return timer_key(PREFIX, meeting.id, meeting.end_at.strftime("%Y%m%dT%H%MZ"))


def plan(session: Session, meeting: Meeting) -> str | None:
    """Make the meeting's outcome timer match it now; its key, or None when it needs none."""
    key = outcome_key(meeting) if meeting.status in ACTIVE_STATUSES else None
    cancel_stale(session, PREFIX, meeting.id, {key} if key else set())
    if key is not None:
        arm(session, key, KIND, meeting.end_at, {"meeting_id": str(meeting.id)})
    return key


def outcome_url(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}/outcome"


def run_outcome_due(session: Session, action: ScheduledAction) -> None:
    """The meeting ended: ask its host what happened (unless it moved, was cancelled or
    has its outcome already)."""
    meeting = session.get(Meeting, uuid.UUID((action.payload or {})["meeting_id"]))
    if meeting is None or meeting.status not in ACTIVE_STATUSES or action.key != outcome_key(meeting):
        action.status, action.finished_at = "cancelled", utcnow()
        return
    task = task_service.create(
        session,
        data={
            "title": f"Log the outcome: {meeting.title}"[:300],
            "notes": f"Held, no-show or rescheduled? {outcome_url(meeting)}",
            "due_at": meeting.end_at,
            "owner_id": meeting.host_id,
            "related_type": "contact" if meeting.contact_id else None,
            "related_id": meeting.contact_id,
        },
        actor=SYSTEM_ACTOR,
    )
    action.payload = {**(action.payload or {}), "task_id": str(task.id)}


def outcome_tasks(session: Session, meeting_id: uuid.UUID) -> list[Task]:
    """The open "Log the outcome" tasks of the meeting."""
    done = session.scalars(
        select(ScheduledAction).where(ScheduledAction.key.startswith(timer_key(PREFIX, meeting_id) + ":"), ScheduledAction.status == "done")
    )
    ids = [uuid.UUID(a.payload["task_id"]) for a in done if (a.payload or {}).get("task_id")]
    return list(session.scalars(select(Task).where(Task.id.in_(ids), Task.status == "open"))) if ids else []


def close_tasks(session: Session, meeting_id: uuid.UUID) -> None:
    for task in outcome_tasks(session, meeting_id):
        task_service.update(session, task, data={"status": "done"}, actor=SYSTEM_ACTOR)


def has_started(meeting: Meeting) -> bool:
    return meeting.start_at <= utcnow()
