"""`pipewise tasks snooze | done` and `pipewise inbox list | read-all`: a person's tasks and
notifications from the terminal, with their own rights."""

import uuid
from datetime import datetime

import typer

from pipewise.auth.visibility import Actor
from pipewise.cli.output import out
from pipewise.crm.service import task_service
from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed
from pipewise.notifications import service as notifications
from pipewise.people.service import user_service

tasks_app = typer.Typer(help="Tasks: snooze a reminder, mark one done.", no_args_is_help=True)
inbox_app = typer.Typer(help="Your notifications.", no_args_is_help=True)
AS_USER = typer.Option(..., "--as", help="E-mail of the person acting (their rights apply).")


def _actor(session, email: str) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.for_user(session, user_service.by_email(session, email))


@tasks_app.command()
def snooze(task_id: uuid.UUID, until: str = typer.Option(..., "--until", help="ISO time with zone, e.g. 2027-01-04T09:00+01:00."),
           as_user: str = AS_USER) -> None:
    """Move a task's reminder (and a due time before it) to a later time."""
    try:
        when = datetime.fromisoformat(until)
    except ValueError:
        raise ValidationFailed.on("until", "is not an ISO date and time such as 2027-01-04T09:00+01:00") from None
    if when.tzinfo is None:
        raise ValidationFailed.on("until", "needs a time zone, such as +01:00 or Z")
    with session_scope() as session:
        task = task_service.snooze(session, task_id, when, actor=_actor(session, as_user))
        out.print(f"Snoozed “{task.title}” until {task.remind_at:%Y-%m-%d %H:%M} UTC.")


@tasks_app.command()
def done(task_id: uuid.UUID, as_user: str = AS_USER) -> None:
    """Mark a task done (a recurring task makes its next occurrence)."""
    with session_scope() as session:
        task = task_service.complete(session, task_id, actor=_actor(session, as_user))
        out.print(f"Done: {task.title}")


@inbox_app.command("list")
def list_notifications(as_user: str = AS_USER, unread: bool = typer.Option(False, "--unread"),
                       limit: int = typer.Option(50, "--limit", min=1, max=notifications.MAX_PAGE_SIZE)) -> None:
    """Your notifications, newest first."""
    with session_scope(write=False) as session:
        user_id = _actor(session, as_user).id
        page = notifications.inbox(session, user_id, unread=unread, limit=limit)
        for item in page.items:
            mark = " " if item.read_at else "•"
            out.print(f"{mark} {item.created_at:%Y-%m-%d %H:%M}  {item.kind:18} {item.title}")
        out.print(f"{notifications.unread_count(session, user_id)} unread")


@inbox_app.command("read-all")
def read_all(as_user: str = AS_USER) -> None:
    """Mark all your notifications read."""
    with session_scope() as session:
        count = notifications.mark_all_read(session, _actor(session, as_user).id)
        out.print(f"Marked {count} notifications read.")
