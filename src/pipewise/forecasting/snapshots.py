"""Weekly forecast snapshots and the reports they make plain queries of.

Every Monday at 00:00 UTC the worker copies each deal that is open, or closed in the last
quarter, with its stage, category, amount and close date into a snapshot (one per week:
the week's Monday is unique). Then:

- **forecast vs actual**: for each snapshot of a period, what it said (closed, commit,
  best case, open pipeline due in the period) beside what was won in the period;
- **slipped deals**: deals due in the period at its first snapshot that are now due after
  it (or lost), with both dates;
- **pipeline coverage**: at each snapshot, open pipeline due in the period over what was
  left to reach the period's quota.

The timer runs itself again for the next Monday; a new deal or a quota starts it."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal, Stage
from pipewise.events import bus
from pipewise.forecasting import categories
from pipewise.forecasting.models import ForecastSnapshot, ForecastSnapshotLine
from pipewise.forecasting.periods import Period
from pipewise.forecasting.service import ZERO, latest_calls, period_bounds

SNAPSHOT_ACTION = "forecast.weekly_snapshot"
KEEP_CLOSED_DAYS = 100


def next_monday(after: datetime) -> datetime:
    day = after.date() + timedelta(days=7 - after.weekday())
    return datetime.combine(day, time(), UTC)


def schedule_next(session: Session, *, after: datetime | None = None) -> None:
    """The next Monday's snapshot timer (idempotent by its key)."""
    run_at = next_monday(after or utcnow())
    bus.schedule(session, key=f"{SNAPSHOT_ACTION}:{run_at.date().isoformat()}", kind=SNAPSHOT_ACTION, run_at=run_at)


def take(session: Session, *, kind: str = "weekly", at: datetime | None = None) -> ForecastSnapshot:
    """Copy the forecast as it stands into a snapshot (every deal: rights apply on reading)."""
    at = at or utcnow()
    week = at.date() - timedelta(days=at.weekday()) if kind == "weekly" else None
    if week is not None and (existing := session.scalar(select(ForecastSnapshot).where(ForecastSnapshot.week == week))):
        return existing
    snapshot = ForecastSnapshot(id=uuid.uuid4(), taken_at=at, kind=kind, week=week)
    session.add(snapshot)
    session.flush()
    since = at - timedelta(days=KEEP_CLOSED_DAYS)
    rows = session.execute(
        select(Deal.id, Deal.name, Deal.owner_id, Stage.kind, Stage.probability, Deal.amount, Deal.currency,
               Deal.close_date, Deal.closed_at)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(or_(Stage.kind == "open", Deal.closed_at >= since))).all()
    calls = latest_calls(session, [row[0] for row in rows])
    lines = []
    for deal_id, name, owner_id, kind_, probability, amount, currency, close_date, closed_at in rows:
        default = categories.default_category(kind_, probability)
        category = categories.effective(default, calls.get((deal_id, categories.REP)), calls.get((deal_id, categories.MANAGER)))
        lines.append({"snapshot_id": snapshot.id, "deal_id": deal_id, "owner_id": owner_id, "name": name[:200],
                      "stage_kind": kind_, "stage_probability": probability, "category": category, "amount": amount,
                      "currency": currency, "close_date": close_date,
                      "closed_on": closed_at.date() if closed_at else None})
    if lines:
        session.execute(ForecastSnapshotLine.__table__.insert(), lines)
    return snapshot


def run_weekly(session: Session, action: Any) -> None:
    """The worker's Monday timer: snapshot, then set the timer of the Monday after the one
    this timer was meant for (a late run does not skip a week, an early one not repeat it)."""
    take(session, kind="weekly")
    meant_for = datetime.combine(date.fromisoformat(action.key.rpartition(":")[2]), time(), UTC)
    schedule_next(session, after=max(utcnow(), meant_for))


# -- reports --------------------------------------------------------------------------


def _visible(stmt: Any, actor: Actor) -> Any:
    clause = owner_clause(ForecastSnapshotLine.owner_id, actor, write=False)
    return stmt if clause is None else stmt.where(clause)


def _due_in(period: Period) -> Any:
    return and_(ForecastSnapshotLine.close_date >= period.start, ForecastSnapshotLine.close_date < period.end)


@dataclass(frozen=True)
class TrendPoint:
    snapshot_id: uuid.UUID
    taken_at: datetime
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal


def trend(session: Session, period: Period, *, actor: Actor, limit: int = 60) -> list[TrendPoint]:
    """What each snapshot taken before the period ended said of it, oldest first."""
    start, end = period_bounds(period)
    amount = func.coalesce(func.sum(ForecastSnapshotLine.amount), 0)
    won_in = and_(ForecastSnapshotLine.stage_kind == "won", ForecastSnapshotLine.closed_on >= period.start,
                  ForecastSnapshotLine.closed_on < period.end)
    open_due = and_(ForecastSnapshotLine.stage_kind == "open", _due_in(period))
    stmt = (select(ForecastSnapshot.id, ForecastSnapshot.taken_at, ForecastSnapshotLine.category, amount)
            .join(ForecastSnapshotLine, ForecastSnapshotLine.snapshot_id == ForecastSnapshot.id)
            .where(ForecastSnapshot.taken_at >= start - timedelta(days=92), ForecastSnapshot.taken_at < end,
                   or_(won_in, open_due))
            .group_by(ForecastSnapshot.id, ForecastSnapshot.taken_at, ForecastSnapshotLine.category))
    sums: dict[uuid.UUID, dict[str, Any]] = {}
    for snapshot_id, taken_at, category, total in session.execute(_visible(stmt, actor)):
        sums.setdefault(snapshot_id, {"taken_at": taken_at})[category] = Decimal(total)
    points = []
    for snapshot_id, values in sorted(sums.items(), key=lambda item: item[1]["taken_at"])[-limit:]:
        closed = values.get(categories.CLOSED, ZERO)
        commit = closed + values.get(categories.COMMIT, ZERO)
        best = commit + values.get(categories.BEST_CASE, ZERO)
        points.append(TrendPoint(snapshot_id, values["taken_at"], closed, commit, best,
                                 best + values.get(categories.PIPELINE, ZERO)))
    return points


def won_in_period(session: Session, period: Period, *, actor: Actor) -> Decimal:
    """What was actually won in the period (the deals as they are now)."""
    start, end = period_bounds(period)
    won_at = func.coalesce(Deal.closed_at, Deal.stage_entered_at)
    stmt = (select(func.coalesce(func.sum(Deal.amount), 0)).join(Stage, Stage.id == Deal.stage_id)
            .where(Stage.kind == "won", won_at >= start, won_at < end))
    if (clause := owner_clause(Deal.owner_id, actor, write=False)) is not None:
        stmt = stmt.where(clause)
    return Decimal(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class SlippedDeal:
    deal_id: uuid.UUID
    name: str
    amount: Decimal | None
    was_due: date
    now_due: date | None
    now: str  # open | lost


def slipped(session: Session, period: Period, *, actor: Actor, limit: int = 200) -> list[SlippedDeal]:
    """Deals due in the period at its first snapshot that are now due later, or lost."""
    start, end = period_bounds(period)
    first = session.scalar(select(ForecastSnapshot.id).where(ForecastSnapshot.taken_at < end)
                           .where(ForecastSnapshot.taken_at >= start - timedelta(days=7))
                           .order_by(ForecastSnapshot.taken_at).limit(1))
    if first is None:
        return []
    stmt = (select(ForecastSnapshotLine.deal_id, Deal.name, Deal.amount, ForecastSnapshotLine.close_date, Deal.close_date,
                   Stage.kind)
            .join(Deal, Deal.id == ForecastSnapshotLine.deal_id).join(Stage, Stage.id == Deal.stage_id)
            .where(ForecastSnapshotLine.snapshot_id == first, ForecastSnapshotLine.stage_kind == "open", _due_in(period),
                   or_(Stage.kind == "lost", and_(Stage.kind == "open", Deal.close_date >= period.end)))
            .order_by(Deal.amount.desc().nulls_last(), Deal.id).limit(limit))
    return [SlippedDeal(*row) for row in session.execute(_visible(stmt, actor))]


@dataclass(frozen=True)
class CoveragePoint:
    taken_at: datetime
    open_pipeline: Decimal
    left_to_quota: Decimal | None
    coverage: float | None


def coverage(session: Session, period: Period, *, actor: Actor, quota: Decimal | None) -> list[CoveragePoint]:
    points = []
    for point in trend(session, period, actor=actor):
        open_pipeline = point.pipeline - point.closed
        left = None if quota is None else quota - point.closed
        ratio = float(open_pipeline / left) if left is not None and left > 0 else None
        points.append(CoveragePoint(point.taken_at, open_pipeline, left, ratio))
    return points
