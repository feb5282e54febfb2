"""What meetings do in the worker: write each booked, moved or cancelled meeting to its
host's connected calendar, keep its reminder and outcome timers in step with it, close
the "Log the outcome" task once an outcome is logged, and run the timers when they come due."""

from sqlalchemy.orm import Session

from pipewise.events import bus
from pipewise.meetings import calendar_sync, outcomes, reminders
from pipewise.meetings.events import MeetingBooked, MeetingCancelled, MeetingHeld, MeetingNoShow, MeetingRescheduled
from pipewise.meetings.models import Meeting


def on_meeting_planned(session: Session, event: bus.Event) -> None:
    """Timers follow the meeting as it is now, so a repeated or late event changes nothing."""
    meeting = session.get(Meeting, event.record_id) if event.record_id else None
    if meeting is None:
        return
    reminders.plan(session, meeting)
    outcomes.plan(session, meeting)
    if event.name != MeetingBooked.name:
        outcomes.close_tasks(session, meeting.id)  # moved or cancelled: nothing to log for the old time


def on_outcome(session: Session, event: bus.Event) -> None:
    """Held or no-show was logged (from the task's form, the meetings list or the API)."""
    if event.record_id is not None:
        outcomes.close_tasks(session, event.record_id)


CHANGES = (MeetingBooked, MeetingRescheduled, MeetingCancelled)

TABLE = bus.HandlerTable(
    subscriptions=(
        bus.Subscription.to(CHANGES, "meetings.timers", on_meeting_planned, rerun_safe=True),
        bus.Subscription.to(CHANGES, "meetings.calendar_sync", calendar_sync.on_meeting_changed),
        bus.Subscription.to((MeetingHeld, MeetingNoShow), "meetings.outcome_logged", on_outcome, rerun_safe=True),
    ),
    timers={
        reminders.KIND: bus.ActionKind(reminders.run_reminder, rerun_safe=True),
        outcomes.KIND: bus.ActionKind(outcomes.run_outcome_due, rerun_safe=True),
    },
)
