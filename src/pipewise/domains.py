"""The composition root: the one list of domains, in the order they build on each other.

``load()`` registers the kernel's own record type and then each domain's
(``<domain>/domain.py``: record types, timeline sources, event handlers, timers, and the
adapters that serve them). The app, the CLI, the worker, migrations and tests call it
before anything else. Adding a domain is a package with a ``domain.py`` and one line here."""

from pipewise.analytics import domain as analytics
from pipewise.api import idempotency  # noqa: F401 - the idempotency-key table (an API concern, no domain's)
from pipewise.assignment import domain as assignment
from pipewise.audit import models as audit_models  # noqa: F401 - the audit tables
from pipewise.audit import service as audit
from pipewise.automation import domain as automation
from pipewise.billing import domain as billing
from pipewise.crm import domain as crm
from pipewise.dataio import domain as dataio
from pipewise.deals import domain as deals
from pipewise.forecasting import domain as forecasting
from pipewise.integrations.webhooks import domain as webhooks
from pipewise.jobs import models as job_models  # noqa: F401 - the job progress table
from pipewise.kernel import CrudResource, Kernel
from pipewise.leads import domain as leads
from pipewise.mail import domain as mail
from pipewise.notifications import models as notification_models  # noqa: F401 - the inbox tables
from pipewise.meetings import domain as meetings
from pipewise.next_actions import domain as next_actions
from pipewise.people import domain as people
from pipewise.privacy import domain as privacy
from pipewise.privacy import erasure_domain
from pipewise.quotes import domain as quotes
from pipewise.records import saved_views  # noqa: F401 - the saved views table
from pipewise.records import schemas as record_schemas
from pipewise.records.field_definitions import CUSTOM_FIELD_SPEC, custom_field_service
from pipewise.scoring import domain as scoring
from pipewise.sequences import domain as sequences

DOMAINS = (
    ("people", people.register),
    ("crm", crm.register),
    ("deals", deals.register),
    ("quotes", quotes.register),
    ("billing", billing.register),
    ("mail", mail.register),
    ("scoring", scoring.register),
    ("assignment", assignment.register),
    ("meetings", meetings.register),
    ("leads", leads.register),
    ("sequences", sequences.register),
    ("automation", automation.register),
    ("analytics", analytics.register),
    ("forecasting", forecasting.register),
    ("next_actions", next_actions.register),
    ("webhooks", webhooks.register),
    ("dataio", dataio.register),
    ("privacy", privacy.register),
    ("erasure", erasure_domain.register),
)

_kernel: Kernel | None = None


def load() -> Kernel:
    """Register everything once; later calls return the same kernel."""
    global _kernel
    if _kernel is None:
        kernel = Kernel()
        kernel.record_type(
            CUSTOM_FIELD_SPEC,
            CrudResource(
                custom_field_service,
                record_schemas.CustomField,
                record_schemas.CustomFieldCreate,
                record_schemas.CustomFieldUpdate,
                "/custom-fields",
                "custom fields",
            ),
        )
        kernel.handlers(audit.TABLE)
        for name, register in DOMAINS:
            kernel.join(name, register)
        _kernel = kernel
    return _kernel
