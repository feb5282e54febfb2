"""`pipewise tasks` and `pipewise inbox`: a person's tasks and notifications from the
terminal, with that person's rights."""

from datetime import UTC, datetime, timedelta

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.crm.service import task_service


def test_snooze_done_and_the_inbox(cli, session, factory):  # type: ignore[no-untyped-def]
    team = factory.team()
    rep, stranger = factory.user(team=team, name="Rob Rep"), factory.user(team=factory.team())
    due = datetime.now(UTC) + timedelta(hours=2)
    task = task_service.create(session, actor=SYSTEM_ACTOR, data={
        "title": "Call Ada", "owner_id": rep.id, "due_at": due, "remind_at": due - timedelta(hours=1)})
    session.commit()

    listed = cli("inbox", "list", "--as", rep.email, "--unread")
    assert listed.exit_code == 0, listed.output
    assert "task_assigned" in listed.output and "assigned you a task: Call Ada" in listed.output
    assert listed.output.strip().endswith("1 unread")

    later = (due + timedelta(days=1)).isoformat()
    assert cli("tasks", "snooze", str(task.id), "--until", later, "--as", stranger.email).exit_code == 1
    assert "needs a time zone" in cli("tasks", "snooze", str(task.id), "--until", "2030-01-01T09:00", "--as", rep.email).output
    snoozed = cli("tasks", "snooze", str(task.id), "--until", later, "--as", rep.email)
    assert snoozed.exit_code == 0, snoozed.output
    assert cli("tasks", "done", str(task.id), "--as", rep.email).exit_code == 0
    session.expire_all()
    stored = session.get(Task, task.id)
    assert stored.status == "done" and stored.remind_at == due + timedelta(days=1)

    assert "Marked 1 notifications read." in cli("inbox", "read-all", "--as", rep.email).output
    assert cli("inbox", "list", "--as", rep.email, "--unread").output.strip() == "0 unread"
