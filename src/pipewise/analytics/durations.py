"""How long things took, for the time-in-stage report: the stays in each stage that ended
in a range, and the sales cycle of the deals closed in it, with their median and 90th
percentile (definitions: docs/reports.md).

Up to ``EXACT_UP_TO`` lengths in scope, the percentiles are exact: every length is read.
Past that, they come from per-day histograms (``report_duration_day``, kept with the deal
sums by analytics/rollups.py) whose buckets are ``RATIO`` wide, interpolated within the
bucket, and the report says they are approximate."""

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, and_, delete, func, insert, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from pipewise.analytics import sql
from pipewise.analytics.days import changed_in, stale_days, utc_day, within
from pipewise.analytics.filters import ReportFilter, deal_conditions, owner_conditions
from pipewise.analytics.models import EVERY_SOURCE, ReportDurationDay
from pipewise.analytics.results import quantile
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealStageChange
from pipewise.leads.models import Lead

STAY, CYCLE = "stay", "cycle"
EXACT_UP_TO = 100_000
RATIO = 1.05  # each bucket 5 % longer than the one before
MINUTES_A_DAY = 1440.0


def bucket_of(days: float) -> int:
    """Bucket 0 holds lengths under a minute; bucket b ≥ 1 those from RATIO**(b-1) minutes."""
    minutes = days * MINUTES_A_DAY
    return 0 if minutes < 1 else 1 + math.floor(math.log(minutes) / math.log(RATIO))


def _bucket_bounds(bucket: int) -> tuple[float, float]:
    if bucket == 0:
        return 0.0, 1 / MINUTES_A_DAY
    return RATIO ** (bucket - 1) / MINUTES_A_DAY, RATIO ** bucket / MINUTES_A_DAY


@dataclass
class Spread:
    """The lengths of one stage's stays (or one outcome's cycles): exact, or a histogram."""

    values: list[float] = field(default_factory=list)
    buckets: dict[int, int] = field(default_factory=dict)

    @classmethod
    def joined(cls, spreads: Iterable["Spread"]) -> "Spread":
        out = cls()
        for spread in spreads:
            out.values.extend(spread.values)
            for bucket, count in spread.buckets.items():
                out.buckets[bucket] = out.buckets.get(bucket, 0) + count
        return out

    @property
    def count(self) -> int:
        return len(self.values) + sum(self.buckets.values())

    def quantile(self, q: float) -> float | None:
        if not self.buckets:
            return quantile(self.values, q)
        counts = defaultdict(int, self.buckets)
        for value in self.values:
            counts[bucket_of(value)] += 1
        position = (self.count - 1) * q
        low = math.floor(position)
        low_value, high_value = _ranked(counts, low), _ranked(counts, min(low + 1, self.count - 1))
        return low_value + (high_value - low_value) * (position - low)


def _ranked(counts: dict[int, int], rank: int) -> float:
    """The ``rank``-th length (from 0), spread evenly in log scale within its bucket."""
    before = 0
    for bucket in sorted(counts):
        if rank < before + counts[bucket]:
            lower, upper = _bucket_bounds(bucket)
            share = (rank - before + 0.5) / counts[bucket]
            return lower + (upper - lower) * share if bucket == 0 else lower * (upper / lower) ** share
        before += counts[bucket]
    raise ValueError(rank)


# -- the lengths themselves ------------------------------------------------------------------


def stay_rows(session: Session, deal_where: Iterable[Any], *, days: Sequence[date] | None = None,
              since: date | None = None, end: date | None = None) -> Any:
    """(stage id as stored, days, deal id, pipeline, owner, UTC day it ended) of every stay
    that ended in the given days: from the change that entered the stage to the deal's next."""
    ended = DealStageChange
    entered = aliased(DealStageChange)
    previous = aliased(DealStageChange)
    before = (
        select(previous.id)
        .where(previous.deal_id == ended.deal_id, or_(previous.at < ended.at, and_(previous.at == ended.at, previous.id < ended.id)))
        .order_by(previous.at.desc(), previous.id.desc()).limit(1).scalar_subquery()
    )
    return (
        select(type_coerce(entered.to_stage_id, String), sql.days_expr(session, entered.at, ended.at), Deal.id, Deal.pipeline_id,
               Deal.owner_id, utc_day(session, ended.at))
        .select_from(ended).join(entered, entered.id == before).join(Deal, Deal.id == ended.deal_id)
        .where(*within(ended.at, days=days, since=since, end=end), *deal_where)
    )


def cycle_rows(session: Session, deal_where: Iterable[Any], *, days: Sequence[date] | None = None,
               since: date | None = None, end: date | None = None) -> Any:
    """The same columns for the deals closed in the given days (the stage is their closing one)."""
    return (
        select(type_coerce(Deal.stage_id, String), sql.days_expr(session, Deal.created_at, Deal.closed_at), Deal.id, Deal.pipeline_id,
               Deal.owner_id, utc_day(session, Deal.closed_at))
        .where(Deal.closed_at.is_not(None), *within(Deal.closed_at, days=days, since=since, end=end), *deal_where)
    )


ROWS = {STAY: stay_rows, CYCLE: cycle_rows}


def _stage_ids(session: Session) -> dict[Any, uuid.UUID]:
    """Stage ids by every form a database returns them in (the rows come back untyped)."""
    return {key: stage.id for stage in sql.stages(session) for key in (stage.id, str(stage.id), stage.id.hex)}


# -- kept per day ------------------------------------------------------------------------------


def store(session: Session, days: Sequence[date] | None) -> None:
    """Histogram rows of the given days (None: every day), per owner and for all owners."""
    stage_ids = _stage_ids(session)
    for kind, rows in ROWS.items():
        counts: dict[tuple[Any, ...], int] = defaultdict(int)
        found = session.execute(rows(session, [], days=days)).all()
        sources = _sources(session, {deal_id for _s, _d, deal_id, *_rest in found}, whole_table=days is None)
        for stage, length, deal_id, pipeline_id, owner_id, day in found:
            bucket = bucket_of(float(length))
            for source in (EVERY_SOURCE, *sources.get(deal_id, ())):
                counts[(day, stage_ids.get(stage, stage), pipeline_id, owner_id, False, source, bucket)] += 1
                counts[(day, stage_ids.get(stage, stage), pipeline_id, None, True, source, bucket)] += 1
        names = ("day", "stage_id", "pipeline_id", "owner_id", "every_owner", "source", "bucket")
        values = [{"kind": kind, **dict(zip(names, key, strict=True)), "count": n} for key, n in counts.items()]
        for start in range(0, len(values), 5000):
            session.execute(insert(ReportDurationDay), values[start:start + 5000])


def forget(session: Session, days: Sequence[date] | None) -> None:
    stmt = delete(ReportDurationDay)
    session.execute(stmt if days is None else stmt.where(ReportDurationDay.day.in_(days)))


def _sources(session: Session, deal_ids: set[Any], *, whole_table: bool) -> dict[Any, set[str]]:
    stmt = select(Lead.converted_deal_id, Lead.source).where(Lead.converted_deal_id.is_not(None), Lead.source.is_not(None))
    if not whole_table:
        if not deal_ids:
            return {}
        stmt = stmt.where(Lead.converted_deal_id.in_(deal_ids))
    found: dict[Any, set[str]] = defaultdict(set)
    for deal_id, source in session.execute(stmt):
        found[deal_id].add(source)
    return found


# -- read ------------------------------------------------------------------------------------


def spreads(session: Session, kind: str, flt: ReportFilter, actor: Actor) -> tuple[dict[uuid.UUID, Spread], bool]:
    """Per stage, the lengths that ended (stays) or closed (cycles) in the filter's range;
    and whether they are approximate (a histogram)."""
    changed = changed_in(stale_days(session), flt.start, flt.end)
    if changed is None:
        return _exact(session, kind, flt, actor), False
    histogram = _stored(session, kind, flt, actor, changed)
    fresh = _exact(session, kind, flt, actor, days=changed) if changed else {}
    if sum(sum(h.values()) for h in histogram.values()) + sum(s.count for s in fresh.values()) <= EXACT_UP_TO:
        return _exact(session, kind, flt, actor), False
    found: dict[uuid.UUID, Spread] = defaultdict(Spread)
    for stage_id, buckets in histogram.items():
        found[stage_id].buckets = buckets
    for stage_id, spread in fresh.items():
        found[stage_id].values = spread.values
    return found, True


def _exact(session: Session, kind: str, flt: ReportFilter, actor: Actor, *, days: Sequence[date] | None = None) -> dict[uuid.UUID, Spread]:
    stage_ids = _stage_ids(session)
    where = deal_conditions(Deal, flt, actor)
    stmt = ROWS[kind](session, where, days=days) if days is not None else ROWS[kind](session, where, since=flt.start, end=flt.end)
    found: dict[uuid.UUID, Spread] = defaultdict(Spread)
    for stage, length, *_rest in session.execute(stmt):
        found[stage_ids.get(stage, stage)].values.append(float(length))
    return found


def _stored(session: Session, kind: str, flt: ReportFilter, actor: Actor, changed: list[date]) -> dict[uuid.UUID, dict[int, int]]:
    table = ReportDurationDay
    by_owner = owner_conditions(table.owner_id, flt, actor)
    where = [table.kind == kind, table.every_owner.is_(not by_owner), table.source == (flt.source or EVERY_SOURCE),
             table.day >= flt.start, table.day <= flt.end, *by_owner]
    if flt.pipeline_id is not None:
        where.append(table.pipeline_id == flt.pipeline_id)
    if changed:
        where.append(table.day.not_in(changed))
    found: dict[uuid.UUID, dict[int, int]] = defaultdict(dict)
    for stage_id, bucket, count in session.execute(
        select(table.stage_id, table.bucket, func.sum(table.count)).where(*where).group_by(table.stage_id, table.bucket)
    ):
        found[stage_id][bucket] = int(count)
    return found
