"""Imports every model so that ``Base.metadata`` is complete (migrations, tests)."""

from pipewise.api.idempotency import IdempotencyRecord
from pipewise.auth.models import ApiToken, Team, User
from pipewise.automation import models as automation_models  # noqa: F401 - workflows, enrollments, decisions
from pipewise.crm.models import Account, Activity, Contact, CustomFieldDefinition, RecordHistory, Task
from pipewise.crm.saved_views import SavedView
from pipewise.db.base import Base
from pipewise.deals.models import Deal, DealContact, DealStageChange, Pipeline, Stage
from pipewise.events.models import EventDelivery, OutboxEvent, ScheduledAction
from pipewise.leads.models import Lead
from pipewise.leads import tables as lead_tables  # noqa: F401 - capture, import, dedup, scoring, routing
from pipewise.quotes.models import Product
from pipewise.sequences import models as sequence_models  # noqa: F401 - sequences, mailboxes, e-mail ledger

__all__ = [
    "Account",
    "Activity",
    "ApiToken",
    "Base",
    "Contact",
    "CustomFieldDefinition",
    "Deal",
    "DealContact",
    "DealStageChange",
    "EventDelivery",
    "IdempotencyRecord",
    "Lead",
    "OutboxEvent",
    "Pipeline",
    "Product",
    "RecordHistory",
    "SavedView",
    "ScheduledAction",
    "Stage",
    "Task",
    "Team",
    "User",
]
