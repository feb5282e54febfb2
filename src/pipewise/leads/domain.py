"""Leads join the kernel: the record type, its timeline, its handlers and its adapters."""

from pipewise.kernel import CrudResource, Kernel
from pipewise.leads import handlers, schemas, timeline
from pipewise.leads.models import Lead
from pipewise.leads.service import lead_service
from pipewise.records.registry import OWNER, RecordSpec


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("lead", "disqualified_reason", "custom", "attribution")
    kernel.scrubbed_columns("form_submission", "payload")
    kernel.scrubbed_columns("lead_import_row", "reason", "excerpt")
    kernel.scrubbed_columns("duplicate_candidate", "reason")
    kernel.record_type(
        RecordSpec(
            "lead",
            "leads",
            Lead,
            ("first_name", "last_name", "email", "company", "domain"),
            relations={**OWNER, "account": ("account_id", "account")},
        ),
        CrudResource(lead_service, schemas.Lead, schemas.LeadCreate, schemas.LeadUpdate, "/leads", "leads"),
    )
    kernel.timeline_source(timeline.lead_routing_and_scores)
    kernel.handlers(handlers.TABLE)
    for adapter in ("leads_forms", "leads_import", "leads_dedup", "leads_scoring", "leads_routing"):
        kernel.api(f"pipewise.api.v1.{adapter}:router")
    kernel.root_api("pipewise.api.v1.leads_forms:root_router")
    for page in ("convert", "queue", "imports", "duplicates", "scoring", "routing", "hosted_form"):
        kernel.web(f"pipewise.web.leads.{page}:router")
    kernel.cli("import", "pipewise.cli.leads:import_app")
    kernel.cli("dedupe", "pipewise.cli.leads:dedupe_app")
