import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Contact
from pipewise.crm.service import account_service, contact_service
from pipewise.db.base import utcnow
from pipewise.deals.service import deal_service
from pipewise.errors import Conflict, ErrorCollector, ValidationFailed
from pipewise.events import bus
from pipewise.leads import clean, dedup, lifecycle, match_keys
from pipewise.leads import timeline as _timeline  # noqa: F401 - registers the lead timeline entries
from pipewise.leads.events import LeadConverted
from pipewise.leads.models import Lead
from pipewise.records import normalize
from pipewise.records.checks import check_choice, check_required_text, normalize_field, tidy_names
from pipewise.records.history import record_change
from pipewise.records.service import RecordService, apply_changes

LEAD_STATUSES = ("new", "working", "nurturing", "qualified", "converted", "disqualified")
CONSENT_STATES = ("unknown", "granted", "withdrawn")


def clean_lead_fields(data: dict[str, Any], record: Lead | None, errors: ErrorCollector) -> None:
    """Normalise what people type, in place; shared by the service, forms and imports."""
    for key in ("first_name", "last_name"):
        if isinstance(data.get(key), str):
            data[key] = clean.tidy_person_name(data[key])
    tidy_names(data, ("title", "company", "industry", "source"))
    normalize_field(data, "email", clean.clean_email, errors)
    normalize_field(data, "country", clean.clean_country, errors)
    country = data.get("country") or getattr(record, "country", None)
    normalize_field(data, "phone", lambda v: clean.clean_phone(v, country), errors)
    normalize_field(data, "region", lambda v: clean.clean_region(v, country), errors)
    normalize_field(data, "domain", normalize.normalize_domain, errors)
    if data.get("email") and not data.get("domain") and not getattr(record, "domain", None):
        data["domain"] = clean.company_domain(data["email"])


class LeadService(RecordService[Lead]):
    record_type = "lead"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "last_name", record, errors)
        clean_lead_fields(data, record, errors)
        check_choice(data, "status", LEAD_STATUSES, errors)
        check_choice(data, "consent_state", CONSENT_STATES, errors)
        if data.get("status") == "converted" and (record is None or record.status != "converted"):
            errors.add("status", "use the convert action to convert a lead")
        if data.get("status") == "disqualified" and not (
            data.get("disqualified_reason") or getattr(record, "disqualified_reason", None)
        ):
            errors.add("disqualified_reason", "say why the lead is disqualified")
        lifecycle.check_stage(data, record, errors)
        domain = data.get("domain") if not data.get("account_id") and not getattr(record, "account_id", None) else None
        email = data.get("email") if record is None else None  # a new lead's exact duplicates, read along
        account_id = dedup.account_and_same_email(session, domain=domain, email=email) if domain or email else None
        if account_id is not None:
            data["account_id"] = account_id

    def after_create(self, session: Session, record: Lead, *, actor: Actor) -> None:
        # Scoring, routing and the fuzzy duplicate check follow right after commit (intake.py).
        dedup.check_new_lead(session, record)

    def after_update(self, session: Session, record: Lead, changes: dict[str, Any], *, actor: Actor) -> None:
        if "lifecycle_stage" in changes:
            old, new = changes["lifecycle_stage"]
            lifecycle.announce(session, record, old, new, actor_id=actor.id, cause="changed by hand")
        match_keys.rekey_lead(session, record, changes)

    def convert(
        self,
        session: Session,
        lead_id: uuid.UUID,
        *,
        actor: Actor,
        account_id: uuid.UUID | None = None,
        create_deal: bool = True,
        deal_name: str | None = None,
        amount: Decimal | None = None,
    ) -> dict[str, Any]:
        """Turn a lead into a contact at an account (existing ones are linked, not copied)
        and, unless told otherwise, an open deal — all in the caller's transaction."""
        lead = self.get(session, lead_id, actor=actor, write=True)
        if lead.status == "converted":
            raise Conflict("this lead was converted already")
        # A savepoint: a failure half-way (no pipeline for the deal) leaves nothing behind,
        # whatever the caller then does with its transaction.
        with session.begin_nested():
            return self._convert(session, lead, actor=actor, account_id=account_id, create_deal=create_deal,
                                 deal_name=deal_name, amount=amount)

    def _convert(
        self,
        session: Session,
        lead: Lead,
        *,
        actor: Actor,
        account_id: uuid.UUID | None,
        create_deal: bool,
        deal_name: str | None,
        amount: Decimal | None,
    ) -> dict[str, Any]:
        account = None
        if account_id or lead.account_id:
            account = account_service.get(session, account_id or lead.account_id, actor=actor)
        elif lead.domain:
            account = account_service.by_domain(session, lead.domain)
        if account is None:
            if not lead.company:
                raise ValidationFailed.on("company", "the lead has no company to create an account from")
            account = account_service.create(
                session,
                data={
                    "name": lead.company,
                    "domain": lead.domain,
                    "industry": lead.industry,
                    "size": lead.company_size,
                    "country": lead.country,
                    "owner_id": lead.owner_id,
                },
                actor=actor,
            )
        contact = session.scalar(select(Contact).where(Contact.email == lead.email)) if lead.email else None
        if contact is None:
            contact = contact_service.create(
                session,
                data={
                    "first_name": lead.first_name,
                    "last_name": lead.last_name,
                    "email": lead.email,
                    "phone": lead.phone,
                    "title": lead.title,
                    "account_id": account.id,
                    "owner_id": lead.owner_id,
                    "lifecycle_stage": "opportunity" if create_deal else "sql",
                },
                actor=actor,
            )
        deal = None
        if create_deal:
            deal = deal_service.create(
                session,
                data={
                    "name": deal_name or f"{account.name} — new business",
                    "amount": amount,
                    "account_id": account.id,
                    "owner_id": lead.owner_id,
                },
                actor=actor,
            )
            session.flush()
            deal_service.add_contact(session, deal.id, contact.id, role="primary", actor=actor)
        changes = apply_changes(
            lead,
            {
                "status": "converted",
                "converted_at": utcnow(),
                "account_id": account.id,
                "converted_contact_id": contact.id,
                "converted_deal_id": deal.id if deal else None,
                "lifecycle_stage": "opportunity" if deal else "sql",
            },
        )
        record_change(session, record_type="lead", record_id=lead.id, action="converted", changes=changes, actor=actor)
        if "lifecycle_stage" in changes:
            lifecycle.announce(session, lead, changes["lifecycle_stage"][0], lead.lifecycle_stage, actor_id=actor.id, cause="converted")
        bus.record(
            session,
            LeadConverted(
                record_id=lead.id,
                actor_id=actor.id,
                account_id=account.id,
                contact_id=contact.id,
                deal_id=deal.id if deal else None,
            ),
        )
        return {"lead": lead, "account": account, "contact": contact, "deal": deal}


lead_service = LeadService()
