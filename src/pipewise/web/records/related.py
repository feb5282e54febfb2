"""The related records shown beside a record: a contact's account, an account's contacts
and deals, a deal's account and contacts, a lead's conversion."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.service import contact_service
from pipewise.deals.service import deal_service
from pipewise.records.repository import ListQuery
from pipewise.web import formatting
from pipewise.web.forms import parse_uuid
from pipewise.web.lookups import Lookups
from pipewise.web.records.views import RecordView

RELATED_LIMIT = 20


@dataclass
class RelatedItem:
    title: str
    href: str | None
    meta: str = ""


@dataclass
class Section:
    title: str
    items: list[RelatedItem] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    empty: str = "Nothing yet."
    # A small inline form: post the record chosen in a picker of ``picker`` kind to ``post_url``.
    post_url: str | None = None
    picker: str | None = None


def _account_section(lookups: Lookups, account_id: uuid.UUID | None) -> Section:
    account = lookups.account(account_id)
    section = Section("Account", empty="No account linked.")
    if account is not None:
        meta = " · ".join(p for p in (account.industry, account.country, account.domain) if p)
        section.items.append(RelatedItem(account.name, f"/accounts/{account.id}", meta))
    return section


def _account_children(session: Session, record: Any, lookups: Lookups) -> list[Section]:
    query = ListQuery(filter={"field": "account_id", "op": "eq", "value": str(record.id)}, limit=RELATED_LIMIT)
    contacts = contact_service.list(session, actor=lookups.actor, query=query).items
    deals = deal_service.list(session, actor=lookups.actor, query=query).items
    return [
        Section(
            "Contacts",
            [RelatedItem(c.full_name or c.last_name, f"/contacts/{c.id}", c.title or c.email or "") for c in contacts],
            [("Add contact", f"/contacts/new?account_id={record.id}")],
            "No contacts at this account yet.",
        ),
        Section(
            "Deals",
            [
                RelatedItem(
                    d.name, f"/deals/{d.id}", f"{lookups.stage_name(d.stage_id)} · {formatting.money(d.amount, d.currency)}"
                )
                for d in deals
            ],
            [("New deal", f"/deals/new?account_id={record.id}")],
            "No deals with this account yet.",
        ),
    ]


def _deal_contacts(session: Session, record: Any) -> Section:
    linked = deal_service.contacts(session, record.id)
    return Section(
        "Contacts on this deal",
        [RelatedItem(c.full_name or c.last_name, f"/contacts/{c.id}", role or c.email or "") for c, role in linked],
        empty="No contacts on this deal yet.",
        post_url=f"/deals/{record.id}/contacts",
        picker="contact",
    )


def _lead_outcome(record: Any, lookups: Lookups) -> Section:
    section = Section("Conversion", empty="Not converted yet.")
    if record.converted_contact_id:
        section.items.append(RelatedItem("Contact", f"/contacts/{record.converted_contact_id}", "created on conversion"))
    if record.converted_deal_id:
        section.items.append(RelatedItem("Deal", f"/deals/{record.converted_deal_id}", "opened on conversion"))
    return section


def sections(session: Session, view: RecordView, record: Any, lookups: Lookups) -> list[Section]:
    if view.name == "account":
        return _account_children(session, record, lookups)
    if view.name == "contact":
        account = _account_section(lookups, record.account_id)
        new_deal = f"/deals/new?contact_id={record.id}" + (f"&account_id={record.account_id}" if record.account_id else "")
        account.actions.append(("New deal for this contact", new_deal))
        return [account]
    if view.name == "deal":
        return [_account_section(lookups, record.account_id), _deal_contacts(session, record)]
    if view.name == "lead":
        return [_account_section(lookups, record.account_id), _lead_outcome(record, lookups)]
    return []


# -- a deal opened from a contact's page starts with that contact on it --

CARRIED_FIELDS = ("contact_id",)


def carried(form: Mapping[str, Any]) -> dict[str, str]:
    """Hidden values a new-record form carries through a failed submit."""
    return {k: str(form[k]) for k in CARRIED_FIELDS if form.get(k)}


def after_create(session: Session, view: RecordView, form: Mapping[str, Any], actor: Actor) -> Callable[[Any], None] | None:
    contact_id = parse_uuid(str(form.get("contact_id") or ""))
    if view.name != "deal" or contact_id is None:
        return None

    def add_contact(deal: Any) -> None:
        deal_service.add_contact(session, deal.id, contact_id, role=None, actor=actor)

    return add_contact
