"""Per-step, per-variant results of a sequence: sent, opened, clicked, replied, bounced,
unsubscribed, and the meetings and deals that followed a step's e-mail.

A deal counts for a sequence only when it followed the sequence's touches: it was created
at a recipient's account (or with the recipient among its contacts) no earlier than a
touch of this sequence to that recipient and at most ``ATTRIBUTION_WINDOW`` after it. It
is credited once, to the latest such touch (its step and variant)."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.crm.models import Activity, Contact
from pipewise.crm.service import contact_service
from pipewise.deals.models import Deal, DealContact
from pipewise.sequences.models import EmailMessage, SequenceStep, StepVariant

COUNTS = ("sent", "opened", "clicked", "replied", "bounced", "unsubscribed", "meetings", "deals_created")
ATTRIBUTION_WINDOW = timedelta(days=30)
CHUNK = 500


@dataclass(frozen=True)
class Touch:
    """One automated touch of a recipient (a contact, and the account it belonged to)."""

    key: Any  # what the touch is credited to: (step id, variant id), a workflow step, ...
    contact_id: uuid.UUID | None
    account_id: uuid.UUID | None
    at: datetime


@dataclass(frozen=True)
class CreatedDeal:
    id: uuid.UUID
    account_id: uuid.UUID | None
    created_at: datetime
    contact_ids: frozenset[uuid.UUID]


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def deals_near(session: Session, touches: list[Touch], *, actor: Actor | None = None) -> list[CreatedDeal]:
    """Deals created while some touch's window was open, at a touched account or with a
    touched contact (a candidate list; ``attribute`` decides)."""
    if not touches:
        return []
    accounts = sorted({t.account_id for t in touches if t.account_id}, key=str)
    contacts = sorted({t.contact_id for t in touches if t.contact_id}, key=str)
    first, last = min(t.at for t in touches), max(t.at for t in touches) + ATTRIBUTION_WINDOW
    visible = owner_clause(Deal.owner_id, actor, write=False) if actor is not None else None
    found: dict[uuid.UUID, tuple[uuid.UUID | None, datetime]] = {}
    for where in [*(Deal.account_id.in_(c) for c in _chunks(accounts)),
                  *(Deal.id.in_(select(DealContact.deal_id).where(DealContact.contact_id.in_(c))) for c in _chunks(contacts))]:
        stmt = select(Deal.id, Deal.account_id, Deal.created_at).where(where, Deal.created_at >= first, Deal.created_at <= last)
        if visible is not None:
            stmt = stmt.where(visible)
        found.update({i: (a, c) for i, a, c in session.execute(stmt)})
    links: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for ids in _chunks(sorted(found, key=str)):
        for deal_id, contact_id in session.execute(select(DealContact.deal_id, DealContact.contact_id).where(DealContact.deal_id.in_(ids))):
            links[deal_id].add(contact_id)
    return [CreatedDeal(i, a, c, frozenset(links[i])) for i, (a, c) in found.items()]


def attribute(touches: list[Touch], deals: list[CreatedDeal]) -> dict[uuid.UUID, Touch]:
    """deal id -> the touch it is credited to: the latest touch before the deal's creation,
    within the window, of a recipient at the deal's account or among its contacts."""
    by_account: dict[uuid.UUID, list[Touch]] = defaultdict(list)
    by_contact: dict[uuid.UUID, list[Touch]] = defaultdict(list)
    for touch in touches:
        if touch.account_id:
            by_account[touch.account_id].append(touch)
        if touch.contact_id:
            by_contact[touch.contact_id].append(touch)
    credited = {}
    for deal in deals:
        candidates = list(by_account.get(deal.account_id, [])) if deal.account_id else []
        for contact_id in deal.contact_ids:
            candidates.extend(by_contact.get(contact_id, []))
        eligible = [t for t in candidates if t.at <= deal.created_at <= t.at + ATTRIBUTION_WINDOW]
        if eligible:
            credited[deal.id] = max(eligible, key=lambda t: (t.at, str(t.key)))
    return credited


def meeting_after(contact_column: Any, sent_column: Any) -> ColumnElement[bool]:
    """A meeting with the recipient logged after the e-mail was sent."""
    return exists().where(Activity.contact_id == contact_column, Activity.type == "meeting", Activity.created_at >= sent_column)


def step_metrics(session: Session, sequence_id: uuid.UUID, *, actor: Actor) -> list[dict[str, Any]]:
    """The results over the contacts ``actor`` may see."""
    steps = list(session.scalars(select(SequenceStep).where(SequenceStep.sequence_id == sequence_id).order_by(SequenceStep.position)))
    labels = dict(session.execute(select(StepVariant.id, StepVariant.label).where(StepVariant.step_id.in_([s.id for s in steps]))).all())
    stmt = select(
        EmailMessage.step_id, EmailMessage.variant_id, EmailMessage.contact_id, EmailMessage.sent_at,
        func.coalesce(EmailMessage.account_id, Contact.account_id).label("account_id"),
        EmailMessage.opened_at, EmailMessage.clicked_at, EmailMessage.replied_at, EmailMessage.bounced_at,
        EmailMessage.unsubscribed_at, meeting_after(EmailMessage.contact_id, EmailMessage.sent_at).label("meeting"),
    ).join(Contact, Contact.id == EmailMessage.contact_id).where(
        and_(
            EmailMessage.step_id.in_([s.id for s in steps]),
            EmailMessage.direction == "outbound",
            EmailMessage.status.in_(("sent", "bounced")),
        )
    )
    rows = session.execute(contact_service.repository(session).visible(stmt, actor)).all()
    tally: dict[tuple[uuid.UUID, uuid.UUID | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    touches = []
    for row in rows:
        counts = tally[(row.step_id, row.variant_id)]
        counts["sent"] += 1
        for name, value in (("opened", row.opened_at), ("clicked", row.clicked_at), ("replied", row.replied_at),
                            ("bounced", row.bounced_at), ("unsubscribed", row.unsubscribed_at), ("meetings", row.meeting)):
            counts[name] += 1 if value else 0
        if row.sent_at is not None and row.bounced_at is None:
            touches.append(Touch((row.step_id, row.variant_id), row.contact_id, row.account_id, row.sent_at))
    for touch in attribute(touches, deals_near(session, touches, actor=actor)).values():
        tally[touch.key]["deals_created"] += 1
    result = []
    for step in steps:
        variants = [
            {"variant": labels.get(variant_id), **counts}
            for (step_id, variant_id), counts in sorted(tally.items(), key=lambda kv: labels.get(kv[0][1]) or "")
            if step_id == step.id
        ]
        totals = {name: sum(v[name] for v in variants) for name in COUNTS}
        result.append({"step_id": step.id, "position": step.position, "kind": step.kind, **totals, "variants": variants})
    return result
