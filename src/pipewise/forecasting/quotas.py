"""Quotas and attainment, rolled up the team tree: each rep, each team (its own quota, or
the sum of its members' when it has none), and the company (its own quota, or the sum of
its teams'). Teams have no parent teams, so the tree is company → team → rep.

Managers set quotas for themselves, the people of the teams they manage and those teams;
admins for anyone, any team and the company."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User
from pipewise.auth.visibility import Actor
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied, ValidationFailed
from pipewise.events import bus
from pipewise.forecasting.events import QuotaSet
from pipewise.forecasting.models import Quota
from pipewise.forecasting.periods import Period, parse_period
from pipewise.forecasting.service import ZERO, Person, Totals, deals_in, people_in_reach, totals_by

MAX_QUOTA = Decimal("1e13")
COMPANY = "company"


def _amount(value: object, errors: ErrorCollector) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.add("amount", f"{str(value)[:30]!r} is not an amount")
        return ZERO
    if not amount.is_finite() or amount < 0 or amount >= MAX_QUOTA:
        errors.add("amount", "must be zero or more, below 10,000,000,000,000")
    return amount


def _scope(session: Session, actor: Actor, user_id: uuid.UUID | None, team_id: uuid.UUID | None) -> str:
    """The quota's scope, if ``actor`` may set it; someone out of reach is not found."""
    if not actor.is_manager:
        raise PermissionDenied("only managers and admins may set quotas")
    if user_id is not None and team_id is not None:
        raise ValidationFailed.on("team_id", "give a user or a team, not both")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not (actor.is_admin or user.id == actor.id or user.team_id in actor.team_ids):
            raise NotFound(f"no user with id {user_id}")
        return f"user:{user_id}"
    if team_id is not None:
        if session.get(Team, team_id) is None or not (actor.is_admin or team_id in actor.team_ids):
            raise NotFound(f"no team with id {team_id}")
        return f"team:{team_id}"
    if not actor.is_admin:
        raise PermissionDenied("only admins may set the company's quota")
    return COMPANY


def set_quota(session: Session, *, period: str, amount: object, actor: Actor, user_id: uuid.UUID | None = None,
              team_id: uuid.UUID | None = None, currency: str = "USD") -> Quota:
    """Set (or replace) one quota."""
    errors = ErrorCollector()
    value = _amount(amount, errors)
    try:
        when = parse_period(period)
    except ValidationFailed as exc:  # reported with the other field errors
        errors.errors.extend(exc.errors)
        when = None
    errors.raise_if_any()
    assert when is not None
    scope = _scope(session, actor, user_id, team_id)
    quota = session.scalar(select(Quota).where(Quota.period == when.key, Quota.scope == scope).with_for_update())
    if quota is None:
        quota = Quota(period=when.key, period_start=when.start, period_end=when.end, scope=scope, user_id=user_id,
                      team_id=team_id, amount=value, currency=currency, set_by=actor.id if actor.id.int else None)
        session.add(quota)
    else:
        quota.amount, quota.set_by = value, actor.id if actor.id.int else None
    session.flush()
    bus.record(session, QuotaSet(record_id=quota.id, actor_id=quota.set_by, period=when.key, scope=scope, amount=value,
                                 user_id=user_id, team_id=team_id))
    return quota


def quotas_of(session: Session, period: Period) -> dict[str, Decimal]:
    return {scope: amount for scope, amount in session.execute(
        select(Quota.scope, Quota.amount).where(Quota.period == period.key))}


@dataclass
class Line:
    """One row of the roll-up: a rep, a team or the company."""

    kind: str  # user | team | company
    id: uuid.UUID | None
    name: str
    quota: Decimal | None
    totals: Totals
    children: list["Line"] = field(default_factory=list)

    @property
    def attainment(self) -> float | None:
        """Closed-won revenue as a share of quota."""
        return float(self.totals.closed / self.quota) if self.quota else None

    @property
    def coverage(self) -> float | None:
        """Open pipeline over what is left to reach quota."""
        gap = (self.quota or ZERO) - self.totals.closed
        return float(self.totals.open_pipeline / gap) if gap > 0 else None


def _sum(lines: list[Line]) -> Totals:
    total = Totals()
    for line in lines:
        for category, amount in line.totals.by_category.items():
            total.by_category[category] += amount
        total.deals += line.totals.deals
    return total


def _quota_sum(own: Decimal | None, lines: list[Line]) -> Decimal | None:
    if own is not None:
        return own
    given = [line.quota for line in lines if line.quota is not None]
    return sum(given, ZERO) if given else None


def rollup(session: Session, period: Period, *, actor: Actor) -> Line:
    """The company (admins) or the actor's teams, with their reps, totals and quotas."""
    teams, people = people_in_reach(session, actor)
    deals = deals_in(session, period, actor=actor)
    by_owner = totals_by(deals, "owner_id")
    quotas = quotas_of(session, period)

    def person_line(person: Person) -> Line:
        return Line("user", person.id, person.name, quotas.get(f"user:{person.id}"), by_owner.get(person.id, Totals()))

    team_lines = []
    for team in teams:
        members = [person_line(p) for p in people if p.team_id == team.id]
        team_lines.append(Line("team", team.id, team.name, _quota_sum(quotas.get(f"team:{team.id}"), members),
                               _sum(members), members))
    team_ids = {team.id for team in teams}
    loose = [person_line(p) for p in people if p.team_id not in team_ids]
    if by_owner.get(None):
        loose.append(Line("user", None, "Unassigned", None, by_owner[None]))
    if loose:
        team_lines.append(Line("team", None, "No team", None, _sum(loose), loose))
    own = quotas.get(COMPANY) if actor.is_admin else None
    return Line("company", None, "Company" if actor.is_admin else "My teams", _quota_sum(own, team_lines),
                _sum(team_lines), team_lines)


def visible_quotas(session: Session, period: Period, *, actor: Actor) -> list[Quota]:
    """The period's quotas of the people and teams in reach (admins: all, the company's too)."""
    stmt = select(Quota).where(Quota.period == period.key).order_by(Quota.scope)
    if not actor.is_admin:
        teams, people = people_in_reach(session, actor)
        scopes = [f"team:{t.id}" for t in teams] + [f"user:{p.id}" for p in people]
        stmt = stmt.where(Quota.scope.in_(scopes))
    return list(session.scalars(stmt))
