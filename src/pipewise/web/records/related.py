"""The related records shown beside a record: a contact's account, deals and open tasks;
an account's contacts and deals; a deal's account, contacts, quotes and meetings; a
lead's conversion."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.service import contact_service, task_service
from pipewise.deals.related import deals_of_contact
from pipewise.deals.service import deal_service
from pipewise.meetings.related import meetings_about
from pipewise.quotes.service import quote_service
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
            [_deal_item(lookups, d) for d in deals],
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


def _deal_item(lookups: Lookups, deal: Any) -> RelatedItem:
    meta = f"{lookups.stage_name(deal.stage_id)} · {formatting.money(deal.amount, deal.currency)}"
    return RelatedItem(deal.name, f"/deals/{deal.id}", meta)


def open_tasks(session: Session, record_type: str, record_id: uuid.UUID, actor: Actor) -> list[Any]:
    """The record's open tasks, due first (undated last)."""
    query = ListQuery(filter={"all": [{"field": "related_type", "op": "eq", "value": record_type},
                                      {"field": "related_id", "op": "eq", "value": str(record_id)},
                                      {"field": "status", "op": "eq", "value": "open"}]}, sort="due_at", limit=RELATED_LIMIT)
    return task_service.list(session, actor=actor, query=query).items


def _task_section(tasks: list[Any], show: Callable[[Any], str]) -> Section:
    return Section("Open tasks", [RelatedItem(t.title, None, show(t)) for t in tasks], empty="No open tasks.")


def _contact_sections(session: Session, record: Any, lookups: Lookups, tasks: list[Any], show: Callable[[Any], str]) -> list[Section]:
    account = _account_section(lookups, record.account_id)
    new_deal = f"/deals/new?contact_id={record.id}" + (f"&account_id={record.account_id}" if record.account_id else "")
    deals = deals_of_contact(session, lookups.actor, record.id, limit=RELATED_LIMIT)
    deal_section = Section("Deals", [_deal_item(lookups, d) for d in deals], [("New deal for this contact", new_deal)],
                           "Not on any deal yet.")
    return [account, deal_section, _task_section(tasks, show)]


def _deal_sections(session: Session, record: Any, lookups: Lookups, show: Callable[[Any], str]) -> list[Section]:
    query = ListQuery(filter={"field": "deal_id", "op": "eq", "value": str(record.id)}, sort="-created_at", limit=RELATED_LIMIT)
    quotes = quote_service.list(session, actor=lookups.actor, query=query).items
    meetings = meetings_about(session, lookups.actor, deal_id=record.id, limit=RELATED_LIMIT)
    return [
        _account_section(lookups, record.account_id),
        _deal_contacts(session, record),
        Section("Quotes", [RelatedItem(f"{q.number} · {q.title}", f"/quotes/{q.id}", formatting.label(q.status)) for q in quotes],
                [("New quote", f"/deals/{record.id}/line-items")], "No quotes yet."),
        Section("Meetings", [RelatedItem(m.title, "/meetings", f"{show(m)} · {formatting.label(m.status)}") for m in meetings],
                empty="No meetings booked about this deal."),
    ]


def sections(session: Session, view: RecordView, record: Any, lookups: Lookups, *, tasks: list[Any] | None = None,
             when: Callable[[Any], str] = str) -> list[Section]:
    """The side cards of a record's page; ``when`` formats a task or meeting's time for the reader."""
    if view.name == "account":
        return _account_children(session, record, lookups)
    if view.name == "contact":
        return _contact_sections(session, record, lookups, tasks or [], when)
    if view.name == "deal":
        return _deal_sections(session, record, lookups, when)
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
