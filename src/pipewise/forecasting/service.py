"""The forecast of a period as people call it: each deal's category (the stage's default,
the rep's call, the manager's call), category totals by rep and team against quota, and
the calls themselves, audited.

Who may call a deal's category: its owner (the rep's call) and, for the deals of the
teams they manage, managers (the manager's call); admins everywhere, as managers. A deal
someone may not see answers as one that does not exist."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User
from pipewise.auth.visibility import Actor, can_reach_owner, owner_clause
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal, Stage
from pipewise.errors import Conflict, ErrorCollector, NotFound, PermissionDenied
from pipewise.events import bus
from pipewise.forecasting import categories
from pipewise.forecasting.events import ForecastCategoryOverridden
from pipewise.forecasting.models import ForecastOverride
from pipewise.forecasting.periods import Period

ZERO = Decimal("0")
MAX_REASON = 2000


@dataclass(frozen=True)
class ForecastDeal:
    id: uuid.UUID
    name: str
    owner_id: uuid.UUID | None
    owner_name: str
    team_id: uuid.UUID | None
    stage: str
    stage_kind: str
    probability: int
    amount: Decimal
    currency: str
    close_date: date | None
    default: str
    rep_call: str | None
    manager_call: str | None
    category: str


@dataclass
class Totals:
    """Sums of one rep, team or the company, by category (closed is won in the period)."""

    by_category: dict[str, Decimal] = field(default_factory=lambda: {c: ZERO for c in categories.CATEGORIES})
    deals: int = 0

    def add(self, deal: ForecastDeal) -> None:
        self.by_category[deal.category] += deal.amount
        self.deals += 1

    @property
    def closed(self) -> Decimal:
        return self.by_category[categories.CLOSED]

    @property
    def commit(self) -> Decimal:
        """What the team says it will book: closed plus commit."""
        return self.closed + self.by_category[categories.COMMIT]

    @property
    def best_case(self) -> Decimal:
        return self.commit + self.by_category[categories.BEST_CASE]

    @property
    def open_pipeline(self) -> Decimal:
        return sum((self.by_category[c] for c in (categories.PIPELINE, categories.BEST_CASE, categories.COMMIT)), ZERO)


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    return datetime.combine(period.start, time(), UTC), datetime.combine(period.end, time(), UTC)


def visible_deals(actor: Actor, *, write: bool = False) -> ColumnElement[bool] | None:
    return owner_clause(Deal.owner_id, actor, write=write)


def in_period(period: Period) -> ColumnElement[bool]:
    """Open (or lost) deals expected to close in the period, and deals won in it."""
    start, end = period_bounds(period)
    won_at = func.coalesce(Deal.closed_at, Deal.stage_entered_at)
    return or_(and_(Stage.kind != "won", Deal.close_date >= period.start, Deal.close_date < period.end),
               and_(Stage.kind == "won", won_at >= start, won_at < end))


def latest_calls(session: Session, deal_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, str], str]:
    """(deal, level) → the latest call's category."""
    if not deal_ids:
        return {}
    latest = (select(func.max(ForecastOverride.id)).where(ForecastOverride.deal_id.in_(deal_ids))
              .group_by(ForecastOverride.deal_id, ForecastOverride.level))
    rows = session.execute(select(ForecastOverride.deal_id, ForecastOverride.level, ForecastOverride.category)
                           .where(ForecastOverride.id.in_(latest)))
    return {(deal_id, level): category for deal_id, level, category in rows}


def deals_in(session: Session, period: Period, *, actor: Actor, owner_id: uuid.UUID | None = None,
             team_id: uuid.UUID | None = None, limit: int = 5000) -> list[ForecastDeal]:
    """The visible deals of the period (optionally one rep's or one team's), biggest first."""
    stmt = (select(Deal.id, Deal.name, Deal.owner_id, User.name, User.team_id, Stage.name, Stage.kind, Stage.probability,
                   Deal.amount, Deal.currency, Deal.close_date)
            .join(Stage, Stage.id == Deal.stage_id).outerjoin(User, User.id == Deal.owner_id)
            .where(in_period(period)).order_by(Deal.amount.desc().nulls_last(), Deal.id).limit(limit))
    if (clause := visible_deals(actor)) is not None:
        stmt = stmt.where(clause)
    if owner_id is not None:
        stmt = stmt.where(Deal.owner_id == owner_id)
    if team_id is not None:
        stmt = stmt.where(User.team_id == team_id)
    rows = session.execute(stmt).all()
    calls = latest_calls(session, [row[0] for row in rows])
    deals = []
    for deal_id, name, owner, owner_name, team, stage, kind, probability, amount, currency, close_date in rows:
        default = categories.default_category(kind, probability)
        rep_call, manager_call = calls.get((deal_id, categories.REP)), calls.get((deal_id, categories.MANAGER))
        deals.append(ForecastDeal(deal_id, name, owner, owner_name or "Unassigned", team, stage, kind, probability,
                                  amount or ZERO, currency, close_date, default, rep_call, manager_call,
                                  categories.effective(default, rep_call, manager_call)))
    return deals


def deal_forecast(session: Session, deal_id: uuid.UUID, *, actor: Actor) -> ForecastDeal:
    """One visible deal's categories, whatever its close date."""
    stmt = (select(Deal.id, Deal.name, Deal.owner_id, User.name, User.team_id, Stage.name, Stage.kind, Stage.probability,
                   Deal.amount, Deal.currency, Deal.close_date)
            .join(Stage, Stage.id == Deal.stage_id).outerjoin(User, User.id == Deal.owner_id).where(Deal.id == deal_id))
    if (clause := visible_deals(actor)) is not None:
        stmt = stmt.where(clause)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"no deal with id {deal_id}")
    calls = latest_calls(session, [deal_id])
    default = categories.default_category(row[6], row[7])
    rep_call, manager_call = calls.get((deal_id, categories.REP)), calls.get((deal_id, categories.MANAGER))
    return ForecastDeal(row[0], row[1], row[2], row[3] or "Unassigned", row[4], row[5], row[6], row[7], row[8] or ZERO,
                        row[9], row[10], default, rep_call, manager_call, categories.effective(default, rep_call, manager_call))


def call_level(session: Session, deal: Deal, actor: Actor) -> str:
    """Whose call ``actor`` makes on ``deal``: the rep's (its owner) or a manager's."""
    if deal.owner_id == actor.id and not actor.is_admin:
        return categories.REP
    if actor.is_manager and can_reach_owner(session, deal.owner_id, actor, write=True):
        return categories.MANAGER
    raise PermissionDenied("only the deal's owner and the managers of its team may call its forecast category")


def override(session: Session, deal_id: uuid.UUID, *, category: str, reason: str, actor: Actor) -> ForecastOverride:
    """Record a call on the deal's category (never replacing an earlier one)."""
    stmt = select(Deal).where(Deal.id == deal_id)
    if (clause := visible_deals(actor)) is not None:
        stmt = stmt.where(clause)
    deal = session.scalar(stmt.with_for_update(of=Deal))
    if deal is None:
        raise NotFound(f"no deal with id {deal_id}")
    errors = ErrorCollector()
    if category not in categories.CALLABLE:
        errors.add("category", f"must be one of {', '.join(categories.CALLABLE)}")
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", "say why (it is kept with the call)")
    elif len(reason) > MAX_REASON or "\x00" in reason:
        errors.add("reason", f"must be at most {MAX_REASON} characters of text")
    errors.raise_if_any()
    level = call_level(session, deal, actor)
    current = deal_forecast(session, deal_id, actor=actor)
    if current.stage_kind != "open":
        raise Conflict(f"the deal is {current.stage_kind}: its stage decides its category now")
    row = ForecastOverride(deal_id=deal.id, level=level, category=category, previous=current.category, reason=reason,
                           actor_id=actor.id if actor.id.int else None, at=utcnow())
    session.add(row)
    session.flush()
    bus.record(session, ForecastCategoryOverridden(record_id=deal.id, actor_id=row.actor_id, level=level,
                                                   category=category, previous=current.category, reason=reason))
    return row


def calls_on(session: Session, deal_id: uuid.UUID, *, actor: Actor, limit: int = 200) -> list[ForecastOverride]:
    deal_forecast(session, deal_id, actor=actor)  # visible, or NotFound
    return list(session.scalars(select(ForecastOverride).where(ForecastOverride.deal_id == deal_id)
                                .order_by(ForecastOverride.id.desc()).limit(limit)))


# -- who belongs where ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None


def people_in_reach(session: Session, actor: Actor) -> tuple[list[Team], list[Person]]:
    """The teams and active users whose forecast ``actor`` may see: everyone for an admin,
    else the actor's teams (and the actor)."""
    teams_stmt = select(Team).order_by(Team.name)
    users_stmt = select(User.id, User.name, User.team_id).where(User.is_active.is_(True)).order_by(User.name)
    if not actor.is_admin:
        teams_stmt = teams_stmt.where(Team.id.in_(actor.team_ids or {uuid.UUID(int=0)}))
        users_stmt = users_stmt.where(or_(User.team_id.in_(actor.team_ids or {uuid.UUID(int=0)}), User.id == actor.id))
    people = [Person(*row) for row in session.execute(users_stmt)]
    return list(session.scalars(teams_stmt)), people


def totals_by(deals: list[ForecastDeal], key: str) -> dict[uuid.UUID | None, Totals]:
    grouped: dict[uuid.UUID | None, Totals] = defaultdict(Totals)
    for deal in deals:
        grouped[getattr(deal, key)].add(deal)
    return grouped


def deal_names(session: Session, ids: list[uuid.UUID], *, actor: Actor) -> dict[uuid.UUID, str]:
    """Names of the visible deals among ``ids``."""
    if not ids:
        return {}
    stmt = select(Deal.id, Deal.name).where(Deal.id.in_(ids[:5000]))
    if (clause := visible_deals(actor)) is not None:
        stmt = stmt.where(clause)
    return {deal_id: name for deal_id, name in session.execute(stmt)}
