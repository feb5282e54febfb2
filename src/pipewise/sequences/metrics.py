"""Per-step, per-variant results of a sequence: sent, opened, clicked, replied, bounced,
unsubscribed, and the meetings and deals that followed a step's e-mail."""

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Activity, Contact
from pipewise.crm.service import contact_service
from pipewise.deals.models import Deal, DealContact
from pipewise.sequences.models import EmailMessage, SequenceStep, StepVariant

COUNTS = ("sent", "opened", "clicked", "replied", "bounced", "unsubscribed", "meetings", "deals_created")


def step_metrics(session: Session, sequence_id: uuid.UUID, *, actor: Actor) -> list[dict[str, Any]]:
    """The results over the contacts ``actor`` may see."""
    steps = list(session.scalars(select(SequenceStep).where(SequenceStep.sequence_id == sequence_id).order_by(SequenceStep.position)))
    labels = dict(session.execute(select(StepVariant.id, StepVariant.label).where(StepVariant.step_id.in_([s.id for s in steps]))).all())
    meeting_after = exists().where(
        Activity.contact_id == EmailMessage.contact_id, Activity.type == "meeting", Activity.created_at >= EmailMessage.sent_at
    )
    deal_after = exists().where(
        Deal.created_at >= EmailMessage.sent_at,
        or_(
            Deal.id.in_(select(DealContact.deal_id).where(DealContact.contact_id == EmailMessage.contact_id)),
            Deal.account_id.in_(select(Contact.account_id).where(Contact.id == EmailMessage.contact_id)),
        ),
    )
    stmt = select(
        EmailMessage.step_id, EmailMessage.variant_id, EmailMessage.opened_at, EmailMessage.clicked_at,
        EmailMessage.replied_at, EmailMessage.bounced_at, EmailMessage.unsubscribed_at,
        meeting_after.label("meeting"), deal_after.label("deal"),
    ).join(Contact, Contact.id == EmailMessage.contact_id).where(
        and_(
            EmailMessage.step_id.in_([s.id for s in steps]),
            EmailMessage.direction == "outbound",
            EmailMessage.status.in_(("sent", "bounced")),
        )
    )
    rows = session.execute(contact_service.repository(session).visible(stmt, actor)).all()
    tally: dict[tuple[uuid.UUID, uuid.UUID | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for row in rows:
        counts = tally[(row.step_id, row.variant_id)]
        counts["sent"] += 1
        for name, value in (("opened", row.opened_at), ("clicked", row.clicked_at), ("replied", row.replied_at),
                            ("bounced", row.bounced_at), ("unsubscribed", row.unsubscribed_at),
                            ("meetings", row.meeting), ("deals_created", row.deal)):
            counts[name] += 1 if value else 0
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
