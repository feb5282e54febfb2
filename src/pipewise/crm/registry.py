"""The record types Pipewise knows, described once for every generic path
(listing, filtering, history, visibility, API routes)."""

from dataclasses import dataclass, field

from pipewise.auth.models import Team, User
from pipewise.crm.models import Account, Activity, Contact, CustomFieldDefinition, Task
from pipewise.db.base import Base
from pipewise.deals.models import Deal, Pipeline, Stage
from pipewise.leads.models import Lead
from pipewise.quotes.models import Product


@dataclass(frozen=True)
class RecordSpec:
    name: str
    plural: str
    model: type[Base]
    search_fields: tuple[str, ...] = ()
    # Owned records follow team visibility; the others are shared reference data.
    owned: bool = True
    # relation name -> (foreign-key column, target record type); used by filters
    # ("account.industry") and to check that referenced records exist and are visible.
    relations: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Roles that may write unowned reference data (None: anyone who can see it).
    write_roles: frozenset[str] | None = None
    has_custom_fields: bool = True
    hidden_fields: frozenset[str] = frozenset()


MANAGERS = frozenset({"admin", "manager"})
ADMINS = frozenset({"admin"})
OWNER = {"owner": ("owner_id", "user")}

RECORD_TYPES: dict[str, RecordSpec] = {
    spec.name: spec
    for spec in (
        RecordSpec("account", "accounts", Account, ("name", "domain"), relations=dict(OWNER)),
        RecordSpec(
            "contact",
            "contacts",
            Contact,
            ("first_name", "last_name", "email"),
            relations={**OWNER, "account": ("account_id", "account")},
        ),
        RecordSpec(
            "lead",
            "leads",
            Lead,
            ("first_name", "last_name", "email", "company", "domain"),
            relations={**OWNER, "account": ("account_id", "account")},
        ),
        RecordSpec(
            "deal",
            "deals",
            Deal,
            ("name",),
            relations={
                **OWNER,
                "account": ("account_id", "account"),
                "stage": ("stage_id", "stage"),
                "pipeline": ("pipeline_id", "pipeline"),
            },
        ),
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
        RecordSpec("task", "tasks", Task, ("title",), relations=dict(OWNER)),
        RecordSpec(
            "product", "products", Product, ("name", "sku"), owned=False, write_roles=MANAGERS, has_custom_fields=False
        ),
        RecordSpec("pipeline", "pipelines", Pipeline, ("name",), owned=False, write_roles=ADMINS, has_custom_fields=False),
        RecordSpec(
            "stage",
            "stages",
            Stage,
            ("name",),
            owned=False,
            write_roles=ADMINS,
            has_custom_fields=False,
            relations={"pipeline": ("pipeline_id", "pipeline")},
        ),
        RecordSpec(
            "user",
            "users",
            User,
            ("name", "email"),
            owned=False,
            write_roles=ADMINS,
            has_custom_fields=False,
            relations={"team": ("team_id", "team")},
            hidden_fields=frozenset({"password_hash"}),
        ),
        RecordSpec("team", "teams", Team, ("name",), owned=False, write_roles=ADMINS, has_custom_fields=False),
        RecordSpec(
            "custom_field",
            "custom_fields",
            CustomFieldDefinition,
            ("key", "label"),
            owned=False,
            write_roles=ADMINS,
            has_custom_fields=False,
        ),
    )
}

# Record types that carry custom fields, and so may have definitions.
CUSTOMIZABLE = tuple(name for name, spec in RECORD_TYPES.items() if spec.has_custom_fields)


def spec_for(name: str) -> RecordSpec:
    return RECORD_TYPES[name]
