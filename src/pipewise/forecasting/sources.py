"""This database's deals as an opportunity history, for the predictive forecast: a deal is
engaged when it was created, closed when it entered a won or lost stage, and its stage
probabilities follow its stage history. Only the deals the actor may see are read, so a
forecast never draws on another team's deals."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor, owner_clause
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal, DealStageChange, Stage
from pipewise.forecasting.history import LOST, OPEN, WON, Opportunity, StageStep, as_of
from pipewise.forecasting.periods import Period

HISTORY_DAYS = 400
_OUTCOME = {"won": WON, "lost": LOST, "open": OPEN}


def history(session: Session, *, actor: Actor, today: date) -> list[Opportunity]:
    since = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(), UTC)
    stmt = (select(Deal.id, Deal.owner_id, Deal.pipeline_id, Deal.created_at, Deal.closed_at, Stage.kind, Deal.amount)
            .join(Stage, Stage.id == Deal.stage_id)
            .where(or_(Stage.kind == "open", Deal.closed_at >= since)))
    if (clause := owner_clause(Deal.owner_id, actor, write=False)) is not None:
        stmt = stmt.where(clause)
    rows = session.execute(stmt).all()
    steps: dict[object, list[StageStep]] = defaultdict(list)
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), 1000):
        changes = session.execute(
            select(DealStageChange.deal_id, DealStageChange.at, Stage.probability)
            .join(Stage, Stage.id == DealStageChange.to_stage_id)
            .where(DealStageChange.deal_id.in_(ids[start:start + 1000])).order_by(DealStageChange.id))
        for deal_id, at, probability in changes:
            steps[deal_id].append(StageStep(at.date(), probability / 100))
    deals = []
    for deal_id, owner_id, pipeline_id, created_at, closed_at, kind, amount in rows:
        outcome = _OUTCOME.get(kind, OPEN)
        closed = closed_at.date() if closed_at and outcome != OPEN else None
        deals.append(Opportunity(
            id=str(deal_id), owner=str(owner_id or ""), segment=str(pipeline_id), engaged_on=created_at.date(),
            closed_on=closed, outcome=outcome if closed else OPEN,
            value=float(amount or 0) if outcome == WON else (0.0 if outcome == LOST else None),
            amount=float(amount) if amount is not None else None, stages=tuple(steps.get(deal_id, ()))))
    return deals


def predict(session: Session, period: Period, *, actor: Actor):  # type: ignore[no-untyped-def]
    """The predictive forecast of the rest of ``period`` as of now (None once it is over)."""
    from pipewise.forecasting import predictive

    today = utcnow().date()
    if period.end <= today:
        return None
    tomorrow = today + timedelta(days=1)
    known = as_of(history(session, actor=actor, today=today), tomorrow)
    return predictive.forecast(known, max(tomorrow, period.start), period.end)
