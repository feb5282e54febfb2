"""Per-day sums of activities for the activities report (definitions: docs/reports.md),
kept with the deal sums by analytics/rollups.py: the same notes of changed days, the same
refresh.

A day's row counts the activities of one type that one person logged on deals of one
pipeline, owner and outcome. It also lists the deals they were on, as 64-bit keys (the
first half of the deal's random id), so that a range made of many days counts each deal
once: the keys of its rows are put together in one set. Two deals of a million share a key
with a chance of about one in forty million."""

import sys
import uuid
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from typing import Any

from sqlalchemy import String, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from pipewise.analytics.days import DAY, MONTH, changed_in, next_month, stale_days, stored_parts, utc_day, within
from pipewise.analytics.filters import ReportFilter, visible_owner_conditions
from pipewise.analytics.models import ReportActivityDay
from pipewise.auth.visibility import Actor
from pipewise.crm.models import Activity
from pipewise.deals.models import Deal, Stage

NO_DEAL = ""  # the kind of an activity logged on no deal
Key = tuple[Any, ...]  # (owner, deal owner, pipeline, kind, type)


@dataclass
class Tally:
    activities: int = 0
    deals: set[int] = field(default_factory=set)

    def add(self, other: "Tally") -> None:
        self.activities += other.activities
        self.deals |= other.deals


@dataclass
class ActivitySums:
    """What the report shows: activities per (person, type), and per (deal outcome, type)
    with the deals each outcome's activities were on."""

    per_owner: dict[tuple[Any, str], int] = field(default_factory=lambda: defaultdict(int))
    per_outcome: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    deals: dict[str, int] = field(default_factory=dict)


def deal_key(deal_id: uuid.UUID | str) -> int:
    """A deal's id as a UUID, or as SQLite keeps it (32 hex digits)."""
    return deal_id.int >> 64 if isinstance(deal_id, uuid.UUID) else int(deal_id[:16], 16)


@lru_cache(maxsize=4096)
def _an_id(raw: uuid.UUID | str | None) -> uuid.UUID | None:
    """A person's or pipeline's id from a row read raw: a few distinct ones over many rows,
    so each is parsed once (parsing every row's took most of a refresh)."""
    return None if raw is None else raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


def _raw(column: Any) -> Any:
    return type_coerce(column, String)


def pack(keys: Iterable[int]) -> bytes:
    packed = array("Q", sorted(keys))
    if sys.byteorder == "big":  # stored little-endian, whatever machine wrote them
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: bytes | None) -> array:
    keys = array("Q")
    keys.frombytes(blob or b"")
    if sys.byteorder == "big":
        keys.byteswap()
    return keys


def _tallies(session: Session, where: Iterable[Any], *, deals_only: bool = False) -> dict[tuple[Any, ...], Tally]:
    """The activities matching ``where`` per (day, *Key)."""
    stmt = (select(utc_day(session, Activity.occurred_at), _raw(Activity.owner_id).label("owner_id"),
                   _raw(Deal.owner_id).label("deal_owner_id"), _raw(Deal.pipeline_id).label("pipeline_id"),
                   func.coalesce(Stage.kind, NO_DEAL), Activity.type, _raw(Activity.deal_id).label("deal_id"))
            .select_from(Activity).outerjoin(Deal, Deal.id == Activity.deal_id).outerjoin(Stage, Stage.id == Deal.stage_id)
            .where(*where, *([Activity.deal_id.is_not(None)] if deals_only else [])))
    found: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    for day, owner_id, deal_owner_id, pipeline_id, kind, kind_of_activity, deal_id in session.execute(stmt):
        tally = found[(day, _an_id(owner_id), _an_id(deal_owner_id), _an_id(pipeline_id), kind, kind_of_activity)]
        tally.activities += 1
        if deal_id is not None:
            tally.deals.add(deal_key(deal_id))
    return found


# -- kept per day ------------------------------------------------------------------------------


def _rows(grain: str, tallies: dict[tuple[Any, ...], Tally], *, day: date | None = None) -> list[dict[str, Any]]:
    """Table rows: one per (day, person, deal owner, pipeline, kind, type), then the same
    added up over the people (``every_owner``)."""
    every: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    rows = []
    for (row_day, owner_id, deal_owner_id, pipeline_id, kind, kind_of_activity), tally in tallies.items():
        rows.append(_row(grain, day or row_day, False, owner_id, deal_owner_id, pipeline_id, kind, kind_of_activity, tally))
        every[(day or row_day, pipeline_id, kind, kind_of_activity)].add(tally)
    for (row_day, pipeline_id, kind, kind_of_activity), tally in every.items():
        rows.append(_row(grain, row_day, True, None, None, pipeline_id, kind, kind_of_activity, tally))
    return rows


def _row(grain: str, day: date, every_owner: bool, owner_id: Any, deal_owner_id: Any, pipeline_id: Any, kind: str,
         kind_of_activity: str, tally: Tally) -> dict[str, Any]:
    return {"grain": grain, "day": day, "every_owner": every_owner, "owner_id": owner_id, "deal_owner_id": deal_owner_id,
            "pipeline_id": pipeline_id, "kind": kind, "type": kind_of_activity, "activities": tally.activities,
            "deal_keys": pack(tally.deals)}


def store(session: Session, days: Sequence[date] | None) -> None:
    """The rows of the given days (None: every day)."""
    rows = _rows(DAY, _tallies(session, within(Activity.occurred_at, days=days)))
    if rows:
        session.execute(insert(ReportActivityDay.__table__), rows)


def store_months(session: Session, months: Iterable[date]) -> None:
    """Month rows: the month's day rows put together."""
    t = ReportActivityDay.__table__
    for month in months:
        session.execute(delete(t).where(t.c.grain == MONTH, t.c.day == month))
        tallies: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
        stmt = (select(_raw(t.c.owner_id), _raw(t.c.deal_owner_id), _raw(t.c.pipeline_id), t.c.kind, t.c.type, t.c.activities,
                       t.c.deal_keys)
                .where(t.c.grain == DAY, t.c.every_owner.is_(False), t.c.day >= month, t.c.day < next_month(month)))
        for owner_id, deal_owner_id, pipeline_id, kind, kind_of_activity, activities, keys in session.execute(stmt):
            tally = tallies[(month, _an_id(owner_id), _an_id(deal_owner_id), _an_id(pipeline_id), kind, kind_of_activity)]
            tally.activities += activities
            tally.deals.update(unpack(keys))
        rows = _rows(MONTH, tallies, day=month)
        if rows:
            session.execute(insert(t), rows)


def forget(session: Session, days: Sequence[date] | None) -> None:
    stmt = delete(ReportActivityDay)
    session.execute(stmt if days is None else stmt.where(ReportActivityDay.grain == DAY, ReportActivityDay.day.in_(days)))


# -- read ------------------------------------------------------------------------------------


def read(session: Session, flt: ReportFilter, actor: Actor) -> ActivitySums | None:
    """The activities of the filter's range from the stored rows and the changed days; None
    when they cannot answer (too many changed days, or a lead source filter: the rows do not
    keep the deals' sources)."""
    changed = changed_in(stale_days(session), flt.start, flt.end)
    if changed is None or flt.source is not None:
        return None
    out = ActivitySums()
    deals: dict[str, set[int]] = defaultdict(set)
    t = ReportActivityDay
    people = visible_owner_conditions(session, t.owner_id, flt, actor)
    deal_people = visible_owner_conditions(session, t.deal_owner_id, flt, actor)
    pipeline = [] if flt.pipeline_id is None else [t.pipeline_id == flt.pipeline_id]
    per_owner_where = [t.every_owner.is_(False), *people, *pipeline, *(deal_people if pipeline else [])]
    outcome_where = [t.kind != NO_DEAL, *pipeline,
                     *([t.every_owner.is_(True)] if not people and not deal_people else [t.every_owner.is_(False), *people, *deal_people])]
    for part in stored_parts(t, flt.start, flt.end, changed):
        for owner_id, kind_of_activity, activities in session.execute(
            select(t.owner_id, t.type, func.sum(t.activities)).where(*per_owner_where, part).group_by(t.owner_id, t.type)
        ):
            out.per_owner[(owner_id, kind_of_activity)] += int(activities)
        for kind, kind_of_activity, activities, keys in session.execute(
            select(t.kind, t.type, t.activities, t.deal_keys).where(*outcome_where, part)
        ):
            out.per_outcome[(kind, kind_of_activity)] += activities
            deals[kind].update(unpack(keys))
    if changed:
        _add_changed(session, flt, actor, changed, out, deals)
    out.deals = {kind: len(keys) for kind, keys in deals.items()}
    return out


def _add_changed(session: Session, flt: ReportFilter, actor: Actor, changed: list[date], out: ActivitySums,
                 deals: dict[str, set[int]]) -> None:
    """The changed days, from the activities themselves (as ``store`` will keep them)."""
    people = [*visible_owner_conditions(session, Activity.owner_id, flt, actor), *within(Activity.occurred_at, days=changed)]
    deal_side = [*visible_owner_conditions(session, Deal.owner_id, flt, actor),
                 *([] if flt.pipeline_id is None else [Deal.pipeline_id == flt.pipeline_id])]
    per_owner = _tallies(session, [*people, *(deal_side if flt.pipeline_id is not None else [])],
                         deals_only=flt.pipeline_id is not None)
    for (_day, owner_id, _deal_owner, _pipeline, _kind, kind_of_activity), tally in per_owner.items():
        out.per_owner[(owner_id, kind_of_activity)] += tally.activities
    for (_day, _owner, _deal_owner, _pipeline, kind, kind_of_activity), tally in _tallies(
        session, [*people, *deal_side], deals_only=True
    ).items():
        out.per_outcome[(kind, kind_of_activity)] += tally.activities
        deals[kind] |= tally.deals
