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

from sqlalchemy import Date, Float, Integer, String, and_, case, cast, delete, func, insert, literal, literal_column, null, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from pipewise.analytics import sql
from pipewise.analytics.days import DAY, MONTH, changed_in, next_month, stale_days, stored_parts, utc_day, within
from pipewise.analytics.exposure import forward
from pipewise.analytics.filters import ReportFilter, deal_conditions, visible_owner_conditions
from pipewise.analytics.models import EVERY_SOURCE, ReportDurationDay
from pipewise.analytics.results import quantile
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, DealStageChange, Stage
from pipewise.leads.models import Lead

STAY, CYCLE, MOVE = "stay", "cycle", "move"
EXACT_UP_TO = 25_000
RATIO = 1.05  # each bucket 5 % longer than the one before
MINUTES_A_DAY = 1440.0
LOG_RATIO = math.log(RATIO)
SAME_LENGTH = 1e-6  # days (86 ms): lengths closer than this are taken for one


def bucket_of(days: float) -> int:
    """Bucket 0 holds lengths under a minute; bucket b ≥ 1 those from RATIO**(b-1) minutes."""
    minutes = days * MINUTES_A_DAY
    return 0 if minutes < 1 else 1 + math.floor(math.log(minutes) / LOG_RATIO)


def _bucket_bounds(bucket: int) -> tuple[float, float]:
    if bucket == 0:
        return 0.0, 1 / MINUTES_A_DAY
    return RATIO ** (bucket - 1) / MINUTES_A_DAY, RATIO ** bucket / MINUTES_A_DAY


@dataclass
class Spread:
    """The lengths of one stage's stays (or one outcome's cycles): exact values, or a
    histogram (then every length is in a bucket, those computed at read time too)."""

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

    def add_bucketed(self, values: Iterable[float]) -> None:
        for value in values:
            bucket = bucket_of(value)
            self.buckets[bucket] = self.buckets.get(bucket, 0) + 1

    def without(self, lengths: Iterable[float]) -> "Spread":
        """These lengths less the given ones (each of which they hold)."""
        out = Spread(list(self.values), dict(self.buckets))
        if out.buckets:
            for length in lengths:
                bucket = bucket_of(length)
                # The database put it in its bucket; on a bucket's edge its logarithm may round the other way.
                held = next((b for b in (bucket, bucket - 1, bucket + 1) if out.buckets.get(b, 0) > 0), None)
                if held is not None:
                    out.buckets[held] -= 1
            return out
        # Matched within a tolerance: SQLite counts a length in whole milliseconds, Python in microseconds.
        wanted, at, out.values = sorted(lengths), 0, []
        for value in sorted(self.values):
            while at < len(wanted) and wanted[at] < value - SAME_LENGTH:
                at += 1
            if at < len(wanted) and abs(wanted[at] - value) <= SAME_LENGTH:
                at += 1
            else:
                out.values.append(value)
        return out

    def quantile(self, q: float) -> float | None:
        if not self.buckets:
            return quantile(self.values, q)
        position = (self.count - 1) * q
        low = math.floor(position)
        low_value, high_value = _ranked(self.buckets, low), _ranked(self.buckets, min(low + 1, self.count - 1))
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


def stay_rows(session: Session, deal_where: list[Any], *, days: Sequence[date] | None = None,
              since: date | None = None, end: date | None = None) -> Any:
    """(stage id as stored, days, deal id, pipeline, owner, UTC day it ended) of every stay
    that ended in the given days: from the change that entered the stage to the deal's next."""
    if days is not None:
        return _stays_ended_on(session, deal_where, days)
    change = DealStageChange
    left = func.lead(change.at).over(partition_by=change.deal_id, order_by=(change.at, change.id))
    stints = select(change.deal_id, change.to_stage_id, change.at.label("entered"), left.label("left"))
    ranged = within(change.at, since=since, end=end)
    if ranged:  # only the deals with a change in the range have a stay that ended in it
        stints = stints.where(change.deal_id.in_(select(change.deal_id).where(*ranged)))
    if deal_where:  # and only the deals in scope: the window then runs over their changes alone
        stints = stints.where(change.deal_id.in_(select(Deal.id).where(*deal_where)))
    stay = stints.subquery()
    return _stay_columns(session, stay.c.to_stage_id, stay.c.entered, stay.c.left).select_from(stay).join(
        Deal, Deal.id == stay.c.deal_id).where(stay.c.left.is_not(None), *within(stay.c.left, since=since, end=end))


def _stays_ended_on(session: Session, deal_where: Iterable[Any], days: Sequence[date]) -> Any:
    """The same for a few days: each change on them, and the change before it (which a
    window over every change of those deals would find at many times the cost)."""
    ended, entered, earlier = DealStageChange, aliased(DealStageChange), aliased(DealStageChange)
    before = (
        select(earlier.id)
        .where(earlier.deal_id == ended.deal_id, or_(earlier.at < ended.at, and_(earlier.at == ended.at, earlier.id < ended.id)))
        .order_by(earlier.at.desc(), earlier.id.desc()).limit(1).scalar_subquery()
    )
    return _stay_columns(session, entered.to_stage_id, entered.at, ended.at).select_from(ended).join(
        entered, entered.id == before).join(Deal, Deal.id == ended.deal_id).where(*within(ended.at, days=days), *deal_where)


def _stay_columns(session: Session, stage: Any, entered: Any, left: Any) -> Any:
    return select(type_coerce(stage, String).label("stage_id"), sql.days_expr(session, entered, left).label("length"),
                  Deal.id.label("deal_id"), Deal.pipeline_id, Deal.owner_id, utc_day(session, left).label("day"))


def cycle_rows(session: Session, deal_where: Iterable[Any], *, days: Sequence[date] | None = None,
               since: date | None = None, end: date | None = None) -> Any:
    """The same columns for the deals closed in the given days (the stage is their closing one)."""
    return (
        select(type_coerce(Deal.stage_id, String).label("stage_id"), sql.days_expr(session, Deal.created_at, Deal.closed_at).label("length"),
               Deal.id.label("deal_id"), Deal.pipeline_id, Deal.owner_id, utc_day(session, Deal.closed_at).label("day"))
        .where(Deal.closed_at.is_not(None), *within(Deal.closed_at, days=days, since=since, end=end), *deal_where)
    )


def move_rows(session: Session, deal_where: Iterable[Any], *, days: Sequence[date] | None = None,
              since: date | None = None, end: date | None = None) -> Any:
    """The same columns for the moves forward made in the given days: to a later open stage,
    or to won (``exposure.forward``); the stage is the one moved to, the length none.
    The automation report counts them."""
    change, before, after = DealStageChange, aliased(Stage), aliased(Stage)
    return (
        select(type_coerce(change.to_stage_id, String).label("stage_id"), literal(0.0, Float).label("length"),
               Deal.id.label("deal_id"), Deal.pipeline_id, Deal.owner_id, utc_day(session, change.at).label("day"))
        .select_from(change).join(before, before.id == change.from_stage_id).join(after, after.id == change.to_stage_id)
        .join(Deal, Deal.id == change.deal_id).where(forward(before, after), *within(change.at, days=days, since=since, end=end), *deal_where)
    )


ROWS = {STAY: stay_rows, CYCLE: cycle_rows, MOVE: move_rows}


# -- kept per day ------------------------------------------------------------------------------


def _bucketed(session: Session, kind: str, days: Sequence[date] | None) -> Any:
    """Every length of the given days with its bucket, once with no source and once per
    source of the deal's converted leads, computed by the database as ``bucket_of`` does."""
    lengths = ROWS[kind](session, [], days=days).subquery()
    c = lengths.c
    minutes = cast(c.length, Float) * MINUTES_A_DAY
    bucket = case((minutes < 1, 0), else_=1 + cast(func.floor(func.ln(minutes) / literal_column(repr(LOG_RATIO))), Integer))
    sources = (select(Lead.converted_deal_id.label("deal_id"), Lead.source)
               .where(Lead.converted_deal_id.is_not(None), Lead.source.is_not(None)).distinct().subquery())
    keys = (c.day, c.stage_id, c.pipeline_id, c.owner_id)
    every = select(*keys, literal(EVERY_SOURCE).label("source"), bucket.label("bucket"))
    sourced = select(*keys, sources.c.source, bucket.label("bucket")).join(sources, sources.c.deal_id == c.deal_id)
    return every.union_all(sourced).subquery()


def store(session: Session, days: Sequence[date] | None) -> None:
    """Histogram rows of the given days (None: every day), per owner, then for all owners
    (those added up from the first)."""
    t = ReportDurationDay.__table__
    names = ["kind", "grain", "day", "stage_id", "pipeline_id", "owner_id", "every_owner", "source", "bucket", "count"]
    for kind in ROWS:
        c = _bucketed(session, kind, days).c
        keys = [c.day, c.stage_id, c.pipeline_id, c.owner_id, c.source, c.bucket]
        per_owner = select(literal(kind), literal(DAY), *keys[:4], literal(False), *keys[4:], func.count()).group_by(*keys)
        session.execute(insert(t).from_select(names, per_owner))
    keys = [t.c.kind, t.c.day, t.c.stage_id, t.c.pipeline_id, t.c.source, t.c.bucket]
    where = [t.c.grain == DAY, t.c.every_owner.is_(False), *([] if days is None else [t.c.day.in_(days)])]
    every_owner = (select(t.c.kind, literal(DAY), t.c.day, t.c.stage_id, t.c.pipeline_id, null(), literal(True), t.c.source, t.c.bucket,
                          func.sum(t.c.count)).where(*where).group_by(*keys))
    session.execute(insert(t).from_select(names, every_owner))


def store_months(session: Session, months: Iterable[date]) -> None:
    """Month rows: the month's day rows added up."""
    t = ReportDurationDay.__table__
    keys = [t.c.kind, t.c.stage_id, t.c.pipeline_id, t.c.owner_id, t.c.every_owner, t.c.source, t.c.bucket]
    names = ["grain", "day", *(k.name for k in keys), "count"]
    for month in months:
        session.execute(delete(t).where(t.c.grain == MONTH, t.c.day == month))
        summed = (select(literal(MONTH), literal(month, Date), *keys, func.sum(t.c.count))
                  .where(t.c.grain == DAY, t.c.day >= month, t.c.day < next_month(month)).group_by(*keys))
        session.execute(insert(t).from_select(names, summed))


def forget(session: Session, days: Sequence[date] | None) -> None:
    stmt = delete(ReportDurationDay)
    session.execute(stmt if days is None else stmt.where(ReportDurationDay.grain == DAY, ReportDurationDay.day.in_(days)))


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
        found[stage_id].add_bucketed(spread.values)
    return found, True


def _exact(session: Session, kind: str, flt: ReportFilter, actor: Actor, *, days: Sequence[date] | None = None) -> dict[uuid.UUID, Spread]:
    stage_ids = sql.by_every_form(stage.id for stage in sql.stages(session))
    where = deal_conditions(Deal, flt, actor)
    stmt = ROWS[kind](session, where, days=days) if days is not None else ROWS[kind](session, where, since=flt.start, end=flt.end)
    stmt = stmt.with_only_columns(*stmt.selected_columns[:2])  # the stage and the length
    found: dict[uuid.UUID, Spread] = defaultdict(Spread)
    for stage, length, *_rest in session.execute(stmt):
        found[stage_ids.get(stage, stage)].values.append(float(length))
    return found


def _stored(session: Session, kind: str, flt: ReportFilter, actor: Actor, changed: list[date]) -> dict[uuid.UUID, dict[int, int]]:
    table = ReportDurationDay
    by_owner = visible_owner_conditions(session, table.owner_id, flt, actor)
    where = [table.kind == kind, table.every_owner.is_(not by_owner), table.source == (flt.source or EVERY_SOURCE), *by_owner]
    if flt.pipeline_id is not None:
        where.append(table.pipeline_id == flt.pipeline_id)
    found: dict[uuid.UUID, dict[int, int]] = defaultdict(dict)
    for part in stored_parts(table, flt.start, flt.end, changed):
        for stage_id, bucket, count in session.execute(
            select(table.stage_id, table.bucket, func.sum(table.count)).where(*where, part).group_by(table.stage_id, table.bucket)
        ):
            found[stage_id][bucket] = found[stage_id].get(bucket, 0) + int(count)
    return found
