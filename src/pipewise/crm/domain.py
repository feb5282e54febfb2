"""Accounts, contacts, activities and tasks join the kernel."""

from pipewise.crm import handlers, schemas, timeline
from pipewise.crm.models import Account, Activity, Contact, Task
from pipewise.crm.service import account_service, activity_service, contact_service, task_service
from pipewise.kernel import CrudResource, Kernel
from pipewise.records.registry import OWNER, RecordSpec


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("account", "custom")
    kernel.scrubbed_columns("contact", "custom")
    kernel.scrubbed_columns("activity", "subject", "body", "custom")
    kernel.scrubbed_columns("task", "title", "notes", "custom")
    kernel.record_type(
        RecordSpec("account", "accounts", Account, ("name", "domain"), relations=dict(OWNER)),
        CrudResource(account_service, schemas.Account, schemas.AccountCreate, schemas.AccountUpdate, "/accounts", "accounts"),
    )
    kernel.record_type(
        RecordSpec(
            "contact",
            "contacts",
            Contact,
            ("first_name", "last_name", "email"),
            relations={**OWNER, "account": ("account_id", "account")},
        ),
        CrudResource(contact_service, schemas.Contact, schemas.ContactCreate, schemas.ContactUpdate, "/contacts", "contacts"),
    )
    kernel.record_type(
        RecordSpec(
            "activity",
            "activities",
            Activity,
            ("subject",),
            relations={
                **OWNER,
                "lead": ("lead_id", "lead"),
                "contact": ("contact_id", "contact"),
                "account": ("account_id", "account"),
                "deal": ("deal_id", "deal"),
            },
        ),
        CrudResource(
            activity_service, schemas.Activity, schemas.ActivityCreate, schemas.ActivityUpdate, "/activities", "activities"
        ),
    )
    kernel.record_type(
        RecordSpec("task", "tasks", Task, ("title",), relations=dict(OWNER)),
        CrudResource(task_service, schemas.Task, schemas.TaskCreate, schemas.TaskUpdate, "/tasks", "tasks"),
    )
    kernel.timeline_source(timeline.activities)
    kernel.timeline_source(timeline.tasks)
    kernel.handlers(handlers.TABLE)
    kernel.api("pipewise.api.v1.tasks:router")
    kernel.cli("tasks", "pipewise.cli.tasks:tasks_app")
    kernel.cli("inbox", "pipewise.cli.tasks:inbox_app")
    kernel.web("pipewise.web.calendar.pages:router")
