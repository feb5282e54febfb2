"""How each record type looks in the web UI: its list columns, filters, sort orders and
form fields. The pages themselves are generic (``pages.py``); this is the data."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pipewise.crm import schemas as crm_schemas
from pipewise.crm.service import CONSENT_STATES, LIFECYCLE_STAGES, account_service, contact_service
from pipewise.deals import schemas as deal_schemas
from pipewise.deals.service import deal_service
from pipewise.leads import schemas as lead_schemas
from pipewise.leads.service import LEAD_STATUSES, lead_service
from pipewise.records.service import RecordService
from pipewise.web.forms import FormField


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    # title (link to the record) | text | email | tel | user | account | stage | money | date | badge
    kind: str = "text"


@dataclass(frozen=True)
class ListFilter:
    param: str  # a conditions_from_params key: field or field__op
    label: str
    kind: str = "text"  # text | choice | user | pipeline | stage | account
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordView:
    name: str
    plural: str
    title: str
    service: RecordService[Any]
    schema: type[BaseModel]  # the partial update schema: checks each typed value
    fields: tuple[FormField, ...]
    columns: tuple[Column, ...]
    filters: tuple[ListFilter, ...]
    sorts: tuple[tuple[str, str], ...]
    title_of: Callable[[Any], str]
    # Fields shown at the top of a record page (the rest are in "Details").
    headline: tuple[str, ...] = ()
    # Columns a viewer may add to the list (the column picker).
    extra_columns: tuple[Column, ...] = ()
    # The money column whose total the list shows (in the record's currency).
    amount: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"/{self.plural}"

    def record_url(self, record: Any) -> str:
        return f"/{self.plural}/{record.id}"


OWNER_FIELD = FormField("owner_id", "Owner", "user", hint="Empty: you own it", empty_means_default=True)
OWNER_FILTER = ListFilter("owner_id", "Owner", "user")
NEWEST_FIRST = (("-created_at", "Newest first"), ("created_at", "Oldest first"))


def _person_name(record: Any) -> str:
    return record.full_name or record.last_name


ACCOUNT = RecordView(
    name="account",
    plural="accounts",
    title="Accounts",
    service=account_service,
    schema=crm_schemas.AccountUpdate,
    fields=(
        FormField("name", "Name", required=True, wide=True),
        FormField("domain", "Website domain", hint="example.com"),
        FormField("industry", "Industry"),
        FormField("size", "Employees", "number"),
        FormField("country", "Country", hint="Two-letter code or name, e.g. DE"),
        OWNER_FIELD,
    ),
    columns=(
        Column("Name", "name", "title"),
        Column("Domain", "domain"),
        Column("Industry", "industry"),
        Column("Country", "country"),
        Column("Employees", "size"),
        Column("Owner", "owner_id", "user"),
    ),
    filters=(OWNER_FILTER, ListFilter("industry__contains", "Industry"), ListFilter("country", "Country")),
    sorts=(("name", "Name A–Z"), ("-name", "Name Z–A"), *NEWEST_FIRST, ("-size", "Largest first")),
    title_of=lambda r: r.name,
    headline=("domain", "industry", "country", "owner_id"),
    extra_columns=(Column("Created", "created_at", "date"), Column("Updated", "updated_at", "date")),
)

CONTACT = RecordView(
    name="contact",
    plural="contacts",
    title="Contacts",
    service=contact_service,
    schema=crm_schemas.ContactUpdate,
    fields=(
        FormField("first_name", "First name"),
        FormField("last_name", "Last name", required=True),
        FormField("email", "E-mail", "email"),
        FormField("phone", "Phone", "tel", hint="With country code, e.g. +49 30 1234567"),
        FormField("title", "Job title"),
        FormField("account_id", "Account", "account"),
        FormField("lifecycle_stage", "Lifecycle stage", "choice", LIFECYCLE_STAGES, required=True, default="lead"),
        FormField("consent_state", "Marketing consent", "choice", CONSENT_STATES, required=True, default="unknown"),
        FormField("timezone", "Time zone", hint="e.g. Europe/Berlin"),
        OWNER_FIELD,
    ),
    columns=(
        Column("Name", "full_name", "title"),
        Column("Title", "title"),
        Column("E-mail", "email", "email"),
        Column("Account", "account_id", "account"),
        Column("Stage", "lifecycle_stage", "badge"),
        Column("Owner", "owner_id", "user"),
    ),
    filters=(OWNER_FILTER, ListFilter("lifecycle_stage", "Lifecycle stage", "choice", LIFECYCLE_STAGES)),
    sorts=(("last_name", "Last name A–Z"), ("-last_name", "Last name Z–A"), *NEWEST_FIRST),
    title_of=_person_name,
    headline=("title", "account_id", "email", "phone", "lifecycle_stage", "owner_id"),
    extra_columns=(Column("Phone", "phone", "tel"), Column("Consent", "consent_state", "badge"),
                   Column("Created", "created_at", "date"), Column("Updated", "updated_at", "date")),
)

LEAD_FORM_STATUSES = tuple(s for s in LEAD_STATUSES if s != "converted")

LEAD = RecordView(
    name="lead",
    plural="leads",
    title="Leads",
    service=lead_service,
    schema=lead_schemas.LeadUpdate,
    fields=(
        FormField("first_name", "First name"),
        FormField("last_name", "Last name", required=True),
        FormField("email", "E-mail", "email"),
        FormField("phone", "Phone", "tel"),
        FormField("title", "Job title"),
        FormField("company", "Company"),
        FormField("domain", "Company domain"),
        FormField("industry", "Industry"),
        FormField("company_size", "Company size", "number"),
        FormField("country", "Country"),
        FormField("source", "Source", hint="e.g. webinar, referral"),
        FormField("status", "Status", "choice", LEAD_FORM_STATUSES, required=True, default="new"),
        FormField("disqualified_reason", "Why disqualified", "textarea", wide=True),
        OWNER_FIELD,
    ),
    columns=(
        Column("Name", "full_name", "title"),
        Column("Company", "company"),
        Column("E-mail", "email", "email"),
        Column("Status", "status", "badge"),
        Column("Source", "source"),
        Column("Owner", "owner_id", "user"),
        Column("Created", "created_at", "date"),
    ),
    filters=(
        OWNER_FILTER,
        ListFilter("status", "Status", "choice", LEAD_STATUSES),
        ListFilter("source__contains", "Source"),
    ),
    sorts=(*NEWEST_FIRST, ("last_name", "Last name A–Z"), ("company", "Company A–Z")),
    title_of=_person_name,
    headline=("company", "email", "phone", "status", "source", "owner_id"),
    extra_columns=(Column("Phone", "phone", "tel"), Column("Score", "score"), Column("Country", "country"),
                   Column("Updated", "updated_at", "date")),
)

DEAL = RecordView(
    name="deal",
    plural="deals",
    title="Deals",
    service=deal_service,
    schema=deal_schemas.DealUpdate,
    fields=(
        FormField("name", "Deal name", required=True, wide=True),
        FormField("account_id", "Account", "account"),
        FormField("pipeline_id", "Pipeline", "pipeline", hint="Empty: the default pipeline", empty_means_default=True),
        FormField("stage_id", "Stage", "stage", hint="Empty: the pipeline's first stage", empty_means_default=True),
        FormField("amount", "Amount", "money"),
        FormField("currency", "Currency", required=True, hint="ISO code, e.g. USD", default="USD"),
        FormField("close_date", "Expected close", "date"),
        FormField("next_step", "Next step", wide=True),
        FormField("lost_reason", "Lost reason", "textarea", wide=True),
        OWNER_FIELD,
    ),
    columns=(
        Column("Deal", "name", "title"),
        Column("Account", "account_id", "account"),
        Column("Stage", "stage_id", "stage"),
        Column("Amount", "amount", "money"),
        Column("Close date", "close_date", "date"),
        Column("Owner", "owner_id", "user"),
    ),
    filters=(
        ListFilter("pipeline_id", "Pipeline", "pipeline"),
        ListFilter("stage_id", "Stage", "stage"),
        OWNER_FILTER,
    ),
    sorts=(*NEWEST_FIRST, ("-amount", "Largest first"), ("close_date", "Closing soonest"), ("name", "Name A–Z")),
    title_of=lambda r: r.name,
    headline=("account_id", "stage_id", "amount", "close_date", "owner_id", "next_step"),
    extra_columns=(Column("Pipeline", "pipeline_id", "pipeline"), Column("Next step", "next_step"),
                   Column("Created", "created_at", "date"), Column("Updated", "updated_at", "date")),
    amount="amount",
)

RECORD_VIEWS: dict[str, RecordView] = {view.plural: view for view in (ACCOUNT, CONTACT, LEAD, DEAL)}
VIEW_BY_TYPE: dict[str, RecordView] = {view.name: view for view in RECORD_VIEWS.values()}

ACTIVITY_FIELDS = (
    FormField("type", "Type", "choice", ("note", "call", "email", "meeting"), required=True, default="note"),
    FormField("subject", "Subject", required=True, wide=True),
    FormField("body", "Details", "textarea", wide=True),
)
TASK_FIELDS = (
    FormField("title", "Task", required=True, wide=True),
    FormField("due_at", "Due", "datetime"),
    FormField("priority", "Priority", "choice", ("normal", "high", "low"), required=True, default="normal"),
    FormField("remind_at", "Remind me", "datetime"),
    FormField("recurrence", "Repeats", hint="an RRULE, e.g. FREQ=WEEKLY;BYDAY=MO"),
)
