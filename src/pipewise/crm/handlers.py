"""The crm package's timer: a task's reminder."""

from pipewise.crm import tasks
from pipewise.events import bus

TABLE = bus.HandlerTable(timers={tasks.REMINDER_ACTION: bus.ActionKind(tasks.run_reminder)})
