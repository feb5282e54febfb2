"""Deal health: is an open deal moving, and if not, why. Each open deal is measured against
its own stage's history — how long deals usually stay in that stage (the median of the
completed stays in the stage history, and its 75th and 90th percentiles) — and against
what its owner has planned:

- **no activity** for longer than the stage's usual time (capped by the pipeline's
  ``stale_after_days``; when the stage has too little history, that setting alone): stale;
- **close date passed** while the deal is still open;
- **slipping**: in the stage longer than 3 in 4 deals stayed (watch), or 9 in 10 (risk);
- **no next step**: no open task on the deal and no meeting booked ahead.

``assess`` answers for a whole board in four statements, whatever the number of deals.
Activities that automation logged (a sequence's e-mail) do not count as someone working
the deal."""

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from pipewise.crm.models import Activity, Task
from pipewise.db.base import UTCDateTime, utcnow
from pipewise.deals.models import DealStageChange, Pipeline, Stage

# Fewer completed stays than this and a stage's own figures are not trusted.
MIN_STAYS = 5
# Stays that ended this long ago no longer describe how the stage runs.
HISTORY_DAYS = 730
DAY = 86400.0
# How much each finding raises the risk of losing the deal's forecast value (0–1); the
# findings combine as independent chances: 1 − Π(1 − weight).
WEIGHTS = {"no_activity": 0.35, "close_date_passed": 0.3, "well_past_usual": 0.3, "slipping": 0.15,
           "no_next_step": 0.2}
RISK = "risk"
WATCH = "watch"


@dataclass(frozen=True)
class StageNorm:
    """How long deals stayed in a stage, in days, from its completed stays."""

    stays: int
    median: float
    p75: float
    p90: float


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    severity: str  # risk | watch

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text, "severity": self.severity}


@dataclass(frozen=True)
class Health:
    deal_id: uuid.UUID
    status: str  # healthy | watch | at_risk
    reasons: tuple[Reason, ...]
    days_in_stage: float
    days_quiet: float
    usual_days: float  # the quiet time after which the deal is stale
    risk: float

    @property
    def stale(self) -> bool:
        return any(r.code == "no_activity" for r in self.reasons)

    @property
    def label(self) -> str:
        if self.stale:
            return "Stale"
        return {"at_risk": "At risk", "watch": "Watch"}.get(self.status, "Healthy")

    def as_dict(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id, "status": self.status, "label": self.label, "stale": self.stale,
            "risk": round(self.risk, 3), "days_in_stage": round(self.days_in_stage, 1),
            "days_quiet": round(self.days_quiet, 1), "usual_days": round(self.usual_days, 1),
            "reasons": [r.as_dict() for r in self.reasons],
        }


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def stage_norms(session: Session, stage_ids: Iterable[uuid.UUID], *, now: datetime | None = None) -> dict[uuid.UUID, StageNorm]:
    """Per stage, how long its completed stays lasted (a stay ends at the deal's next move)."""
    ids = list(set(stage_ids))
    if not ids:
        return {}
    since = (now or utcnow()) - timedelta(days=HISTORY_DAYS)
    entered = func.lag(DealStageChange.at, type_=UTCDateTime()).over(
        partition_by=DealStageChange.deal_id, order_by=(DealStageChange.at, DealStageChange.id)
    )
    moves = (
        select(DealStageChange.from_stage_id.label("stage_id"), DealStageChange.at.label("left_at"), entered.label("entered_at"))
        .where(DealStageChange.deal_id.in_(
            select(DealStageChange.deal_id).where(DealStageChange.from_stage_id.in_(ids), DealStageChange.at >= since)
        ))
        .subquery()
    )
    durations: dict[uuid.UUID, list[float]] = defaultdict(list)
    rows = session.execute(
        select(moves.c.stage_id, moves.c.entered_at, moves.c.left_at)
        .where(moves.c.stage_id.in_(ids), moves.c.left_at >= since, moves.c.entered_at.is_not(None))
    )
    for stage_id, entered_at, left_at in rows:
        durations[stage_id].append(max((left_at - entered_at).total_seconds(), 0.0) / DAY)
    norms = {}
    for stage_id, days in durations.items():
        if len(days) >= MIN_STAYS:
            days.sort()
            norms[stage_id] = StageNorm(len(days), percentile(days, 0.5), percentile(days, 0.75), percentile(days, 0.9))
    return norms


@dataclass(frozen=True)
class _Signals:
    last_touch: dict[uuid.UUID, datetime]
    next_step: set[uuid.UUID]


def _signals(session: Session, deal_ids: list[uuid.UUID], now: datetime) -> _Signals:
    """The latest work logged on each deal and whether a next step is planned (an open task,
    or a meeting ahead: booking a meeting logs it as an activity at its start): two
    statements."""
    last: dict[uuid.UUID, datetime] = {}
    upcoming: set[uuid.UUID] = set()
    rows = session.execute(
        select(
            Activity.deal_id,
            func.max(case((Activity.occurred_at <= now, Activity.occurred_at))),
            func.max(case(((Activity.occurred_at > now) & (Activity.type == "meeting"), Activity.occurred_at))),
        )
        .where(Activity.deal_id.in_(deal_ids), Activity.automated.is_(False))
        .group_by(Activity.deal_id)
    )
    for deal_id, done, ahead in rows:
        if done is not None:
            last[deal_id] = done
        if ahead is not None:
            upcoming.add(deal_id)
    tasks = session.scalars(
        select(Task.related_id).where(Task.related_type == "deal", Task.related_id.in_(deal_ids), Task.status == "open")
        .distinct()
    )
    upcoming.update(tasks)
    return _Signals(last, upcoming)


def _days(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds(), 0.0) / DAY


def _plural(days: float) -> str:
    whole = max(int(days), 0)
    return f"{whole} day" + ("" if whole == 1 else "s")


def assess(session: Session, deals: Sequence[Any], *, now: datetime | None = None) -> dict[uuid.UUID, Health]:
    """Health of every open deal among ``deals`` (closed ones are left out): four
    statements for the lot. The caller has checked who may see the deals."""
    now = now or utcnow()
    today: date = now.date()
    stage_rows = session.execute(
        select(Stage.id, Stage.name, Stage.kind, Pipeline.stale_after_days)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Stage.id.in_(list({d.stage_id for d in deals})))
    ).all() if deals else []
    stages = {row.id: row for row in stage_rows}
    open_deals = [d for d in deals if d.stage_id in stages and stages[d.stage_id].kind == "open"]
    if not open_deals:
        return {}
    norms = stage_norms(session, {d.stage_id for d in open_deals}, now=now)
    signals = _signals(session, [d.id for d in open_deals], now)
    out = {}
    for deal in open_deals:
        stage = stages[deal.stage_id]
        out[deal.id] = _health(deal, stage.name, stage.stale_after_days, norms.get(deal.stage_id), signals, now, today)
    return out


def _health(deal: Any, stage_name: str, stale_after_days: int, norm: StageNorm | None, signals: _Signals,
            now: datetime, today: date) -> Health:
    in_stage = _days(now, deal.stage_entered_at)
    touched = max(t for t in (signals.last_touch.get(deal.id), deal.stage_entered_at, deal.created_at) if t is not None)
    quiet = _days(now, touched)
    usual = min(max(norm.median, 1.0), stale_after_days) if norm else float(stale_after_days)
    reasons = []
    if quiet > usual:
        basis = f"deals usually spend {_plural(norm.median)} in {stage_name}" if norm else \
            f"the pipeline calls a deal stale after {_plural(stale_after_days)}"
        reasons.append(Reason("no_activity", f"No activity for {_plural(quiet)}; {basis}", RISK))
    if deal.close_date is not None and deal.close_date < today:
        reasons.append(Reason("close_date_passed", f"Close date {deal.close_date.isoformat()} has passed "
                                                   f"({_plural((today - deal.close_date).days)} ago)", RISK))
    if norm is not None and in_stage > norm.p90:
        reasons.append(Reason("well_past_usual", f"{_plural(in_stage)} in {stage_name}; 9 in 10 deals moved on "
                                                 f"within {_plural(math.ceil(norm.p90))}", RISK))
    elif norm is not None and in_stage > norm.p75:
        reasons.append(Reason("slipping", f"{_plural(in_stage)} in {stage_name}; 3 in 4 deals moved on "
                                          f"within {_plural(math.ceil(norm.p75))}", WATCH))
    if deal.id not in signals.next_step:
        reasons.append(Reason("no_next_step", "No next step: no open task and no meeting booked", WATCH))
    risk = 1.0 - math.prod(1.0 - WEIGHTS[r.code] for r in reasons)
    status = "at_risk" if any(r.severity == RISK for r in reasons) else ("watch" if reasons else "healthy")
    return Health(deal.id, status, tuple(reasons), in_stage, quiet, usual, risk)
