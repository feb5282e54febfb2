"""What a rep should do next: the open deals and leads where acting now changes the
forecast most, each with the reason.

- A deal's stake is its weighted value (amount × the stage's probability) times its risk
  (``deals.health``): a big, likely deal that has gone quiet comes before a small one that
  is merely missing a next step; a healthy deal needs nothing now and is not listed.
- A hot lead (at or over the MQL threshold, or a model probability of 50 % or more) that
  nobody has contacted yet stands for its chance of converting times the average deal won
  in the last year: speed to lead is the one thing that still moves it.

Managers see the list of anyone in the teams they manage, admins anyone's; a rep only
their own."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor, can_reach_owner, owner_clause
from pipewise.db.base import utcnow
from pipewise.deals import health as deal_health
from pipewise.deals.models import Deal, Stage
from pipewise.errors import NotFound, PermissionDenied
from pipewise.leads.models import Lead
from pipewise.scoring.setup import current as scoring_setup

MAX_DEALS = 2000
MAX_LEADS = 500
HOT_PROBABILITY = 0.5
WON_LOOKBACK_DAYS = 365
ACTIONS = {
    "no_activity": "Get back in touch",
    "close_date_passed": "Update the close date or close the deal",
    "well_past_usual": "Find what holds it and move it on",
    "slipping": "Find what holds it and move it on",
    "no_next_step": "Plan the next step",
}


@dataclass(frozen=True)
class NextAction:
    kind: str  # deal | lead
    record_id: uuid.UUID
    name: str
    action: str
    reasons: list[str]
    stake: Decimal  # forecast value an action now can keep or win
    url: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.record_id, "name": self.name, "action": self.action,
                "reasons": self.reasons, "stake": self.stake, "url": self.url, **self.detail}


def whose(session: Session, actor: Actor, user_id: uuid.UUID | None) -> User:
    """The person whose list ``actor`` asks for: themselves, or (managers, admins) someone in
    the teams they manage. Someone out of reach answers as if they did not exist."""
    if user_id is None or user_id == actor.id:
        me = session.get(User, actor.id)
        if me is None:
            raise NotFound("no such user")
        return me
    if not actor.is_manager:
        raise PermissionDenied("only managers may see another person's next actions")
    user = session.get(User, user_id)
    if user is None or not user.is_active or not can_reach_owner(session, user.id, actor, write=False):
        raise NotFound(f"no user with id {user_id} in your teams")
    return user


def people(session: Session, actor: Actor) -> list[User]:
    """Whose lists ``actor`` may switch to (themselves first)."""
    if not actor.is_manager:
        me = session.get(User, actor.id)
        return [me] if me else []
    query = select(User).where(User.is_active.is_(True)).order_by(User.name)
    if not actor.is_admin:
        query = query.where((User.id == actor.id) | User.team_id.in_(actor.team_ids))
    found = list(session.scalars(query))
    return sorted(found, key=lambda u: u.id != actor.id)


def for_user(session: Session, user: User, *, actor: Actor, now: datetime | None = None, limit: int = 25) -> list[NextAction]:
    """``user``'s next actions, most at stake first (``whose`` has checked ``actor`` may ask)."""
    now = now or utcnow()
    actions = _deal_actions(session, user, actor, now) + _lead_actions(session, user, actor, now)
    actions.sort(key=lambda a: (-a.stake, a.name))
    return actions[:limit]


def _visible(query: Any, column: Any, actor: Actor) -> Any:
    clause = owner_clause(column, actor, write=False)
    return query if clause is None else query.where(clause)


def _deal_actions(session: Session, user: User, actor: Actor, now: datetime) -> list[NextAction]:
    query = (select(Deal, Stage.probability, Stage.name).join(Stage, Stage.id == Deal.stage_id)
             .where(Deal.owner_id == user.id, Stage.kind == "open").limit(MAX_DEALS))
    rows = session.execute(_visible(query, Deal.owner_id, actor)).all()
    assessed = deal_health.assess(session, [deal for deal, _p, _s in rows], now=now)
    out = []
    for deal, probability, stage_name in rows:
        found = assessed.get(deal.id)
        if found is None or not found.reasons:
            continue
        weighted = (deal.amount or Decimal(0)) * Decimal(probability) / 100
        stake = (weighted * Decimal(str(round(found.risk, 4)))).quantize(Decimal("0.01"))
        out.append(NextAction(
            "deal", deal.id, deal.name, ACTIONS[found.reasons[0].code], [r.text for r in found.reasons], stake,
            f"/deals/{deal.id}",
            {"status": found.status, "stage": stage_name, "amount": deal.amount, "currency": deal.currency,
             "probability": probability},
        ))
    return out


def _average_won(session: Session, now: datetime) -> Decimal:
    average = session.scalar(
        select(func.avg(Deal.amount)).join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "won", Deal.closed_at >= now - timedelta(days=WON_LOOKBACK_DAYS), Deal.amount.is_not(None))
    )
    return Decimal(str(average or 0))


def _lead_actions(session: Session, user: User, actor: Actor, now: datetime) -> list[NextAction]:
    threshold = scoring_setup(session).mql_threshold
    query = (select(Lead).where(
        Lead.owner_id == user.id, Lead.status.not_in(("converted", "disqualified")), Lead.first_touched_at.is_(None),
        (Lead.score >= threshold) | (Lead.predicted_probability >= HOT_PROBABILITY),
    ).order_by(Lead.score.desc()).limit(MAX_LEADS))
    leads = list(session.scalars(_visible(query, Lead.owner_id, actor)))
    if not leads:
        return []
    won = _average_won(session, now)
    out = []
    for lead in leads:
        chance = lead.predicted_probability if lead.predicted_probability is not None else lead.score / 100
        waited = max((now - lead.created_at).total_seconds(), 0) / 3600
        since = f"{int(waited)} hours" if waited < 48 else f"{int(waited // 24)} days"
        reasons = [f"Hot lead: score {lead.score} (MQL at {threshold})"
                   + (f", {round(lead.predicted_probability * 100)} % likely to convert" if lead.predicted_probability is not None else ""),
                   f"Not contacted yet, {since} after it came in"]
        name = " ".join(p for p in (lead.first_name, lead.last_name) if p) + (f" ({lead.company})" if lead.company else "")
        out.append(NextAction(
            "lead", lead.id, name, "Contact now", reasons, (won * Decimal(str(round(chance, 4)))).quantize(Decimal("0.01")),
            f"/leads/{lead.id}", {"score": lead.score, "probability": lead.predicted_probability},
        ))
    return out
