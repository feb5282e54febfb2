"""What a task does over time: it tells its assignee when someone else gives it to them,
its reminder notifies the assignee once (a durable timer, keyed by the reminder time, so
a snooze arms a new one and the old one finds itself stale), and a recurring task
(an RRULE) makes its next occurrence when it is completed, once."""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dateutil.rrule import rrule, rrulestr
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Task
from pipewise.db.base import utcnow
from pipewise.errors import ErrorCollector
from pipewise.events import bus
from pipewise.notifications.service import notify

REMINDER_ACTION = "crm.task_reminder"
RECORD_PAGES = ("account", "contact", "lead", "deal")
# Plenty for any human schedule, and a bound on the work one rule can ask for.
MAX_RULE_LENGTH = 500
_PREFIX = re.compile(r"^\s*RRULE:", re.IGNORECASE)


def link(task: Task) -> str:
    """Where a notification about ``task`` leads: its record's page, else the calendar."""
    if task.related_type in RECORD_PAGES and task.related_id:
        return f"/{task.related_type}s/{task.related_id}"
    return "/calendar"


def parse_rule(text: str, start: datetime) -> rrule:
    rule = rrulestr(_PREFIX.sub("", text).strip(), dtstart=start)
    if not isinstance(rule, rrule):
        raise ValueError("one RRULE, without RDATE or EXDATE")
    return rule


def check_recurrence(data: dict[str, Any], errors: ErrorCollector) -> None:
    """Normalise ``data["recurrence"]`` to a bare RRULE (``FREQ=WEEKLY;BYDAY=MO``)."""
    text = data.get("recurrence")
    if text is None:
        return
    text = _PREFIX.sub("", text).strip().upper()
    if not text:
        data["recurrence"] = None
        return
    if len(text) > MAX_RULE_LENGTH:
        errors.add("recurrence", f"at most {MAX_RULE_LENGTH} characters")
        return
    try:
        if "DTSTART" in text:
            raise ValueError("the task's due time is its start")
        parse_rule(text, datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, TypeError, OverflowError) as exc:
        errors.add("recurrence", f"is not an RRULE such as FREQ=WEEKLY;BYDAY=MO ({exc})")
        return
    data["recurrence"] = text


def check_recurrence_start(data: dict[str, Any], record: Task | None, errors: ErrorCollector) -> None:
    due = data.get("due_at", getattr(record, "due_at", None))
    if data.get("recurrence", getattr(record, "recurrence", None)) and due is None:
        errors.add("due_at", "a recurring task needs a due time to repeat from")


CreateTask = Callable[..., Task]


def after_write(session: Session, task: Task, changes: dict[str, Any], *, actor: Actor, create: CreateTask) -> None:
    """Hooked after a task is created or changed; ``create`` makes a task (the service's create)."""
    if "owner_id" in changes and task.owner_id is not None and task.owner_id != actor.id:
        notify(session, task.owner_id, "task_assigned", f"{actor.name or 'Someone'} assigned you a task: {task.title}",
               body=task.notes, link=link(task), record_type="task", record_id=task.id,
               key=f"task_assigned:{task.id}:{task.version or 0}")
    if "remind_at" in changes and task.remind_at is not None:
        arm_reminder(session, task)
    status = changes.get("status")
    if status and status[1] == "done" and task.recurrence and task.next_task_id is None:
        make_next(session, task, actor=actor, create=create)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def arm_reminder(session: Session, task: Task) -> None:
    """A durable timer for the task's reminder time; arming the same time twice is one timer."""
    assert task.remind_at is not None
    bus.schedule(session, key=f"task-reminder:{task.id}:{_stamp(task.remind_at)}", kind=REMINDER_ACTION,
                 run_at=task.remind_at, payload={"task_id": str(task.id), "remind_at": task.remind_at.isoformat()})


def run_reminder(session: Session, action: Any) -> None:
    """The reminder's timer: notifies the assignee, unless the task moved on or its
    reminder was moved (a snooze armed another timer)."""
    task = session.get(Task, uuid.UUID(action.payload["task_id"]))
    if task is None or task.status != "open" or task.owner_id is None or task.remind_at is None:
        return
    armed_for = datetime.fromisoformat(action.payload["remind_at"])
    if task.remind_at != armed_for:
        return
    due = f" (due {task.due_at:%Y-%m-%d %H:%M} UTC)" if task.due_at else ""
    notify(session, task.owner_id, "reminder", f"Reminder: {task.title}{due}", body=task.notes, link=link(task),
           record_type="task", record_id=task.id, key=f"reminder:{task.id}:{_stamp(armed_for)}")
    task.reminded_at = utcnow()


def snooze_changes(task: Task, until: datetime) -> dict[str, Any]:
    """What snoozing ``task`` until ``until`` changes: the reminder moves there, and a due
    time before it moves with it."""
    changes: dict[str, Any] = {"remind_at": until}
    if task.due_at is not None and task.due_at < until:
        changes["due_at"] = until
    return changes


def next_due(task: Task) -> tuple[datetime, str | None] | None:
    """The next occurrence's due time and the rule it carries on (a COUNT counts down);
    None when the rule has no occurrence after this one."""
    if not task.recurrence or task.due_at is None:
        return None
    rule = parse_rule(task.recurrence, task.due_at)
    following = rule.after(task.due_at)
    if following is None:
        return None
    count = re.search(r"COUNT=(\d+)", task.recurrence)
    if count is None:
        return following, task.recurrence
    left = int(count.group(1)) - 1
    return following, (re.sub(r"COUNT=\d+", f"COUNT={left}", task.recurrence) if left > 1 else None)


def make_next(session: Session, task: Task, *, actor: Actor, create: CreateTask) -> None:
    upcoming = next_due(task)
    if upcoming is None:
        return
    due, rule = upcoming
    data: dict[str, Any] = {
        "title": task.title, "notes": task.notes, "priority": task.priority, "owner_id": task.owner_id,
        "related_type": task.related_type, "related_id": task.related_id, "due_at": due, "recurrence": rule,
    }
    if task.remind_at is not None:
        data["remind_at"] = due - (task.due_at - task.remind_at)
    successor = create(session, data=data, actor=actor)
    task.next_task_id = successor.id
