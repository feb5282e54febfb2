"""Per-day sums of leads for the lead source report (definitions: docs/reports.md), kept
with the deal sums by analytics/rollups.py: the same notes of changed days, the same refresh.

A day's row counts the leads created that day by one owner with one first touch (source,
utm_source, utm_campaign), and what the deals they converted into are worth now (open
pipeline, won deals and revenue), per that deal's owner and pipeline: the report's rights
and pipeline filter apply to the deal side apart from the lead side, as they do when it
reads the leads."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, and_, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from pipewise.analytics.days import DAY, MONTH, changed_in, next_month, stale_days, stored_parts, utc_day, within
from pipewise.analytics.filters import ReportFilter, in_range, visible_owner_conditions, visible_to
from pipewise.analytics.models import ReportLeadDay
from pipewise.auth.visibility import Actor
from pipewise.deals.models import Deal, Stage
from pipewise.leads.models import Lead

KEYS = ("owner_id", "source", "utm_source", "utm_campaign", "deal_owner_id", "pipeline_id")
MEASURES = ("leads", "deals", "open_amount", "won_deals", "won_amount")
BY_TOUCH = ("source", "utm_source", "utm_campaign")
Sums = dict[tuple[Any, ...], list[Any]]  # per (source, utm_source, utm_campaign): the MEASURES


def _lead_rows(session: Session, where: Iterable[Any]) -> Any:
    """One row per lead with the columns of ``report_lead_day``."""
    won = Stage.kind == "won"
    return (
        select(utc_day(session, Lead.created_at).label("day"), Lead.owner_id.label("owner_id"), Lead.source.label("source"),
               Lead.attribution["utm_source"].as_string().label("utm_source"),
               Lead.attribution["utm_campaign"].as_string().label("utm_campaign"),
               Deal.owner_id.label("deal_owner_id"), Deal.pipeline_id.label("pipeline_id"), literal(1, Integer).label("leads"),
               case((Deal.id.is_not(None), 1), else_=0).label("deals"),
               case((Stage.kind == "open", Deal.amount)).label("open_amount"),
               case((and_(won, Deal.amount.is_not(None)), 1), else_=0).label("won_deals"),
               case((won, Deal.amount)).label("won_amount"))
        .select_from(Lead).outerjoin(Deal, Deal.id == Lead.converted_deal_id).outerjoin(Stage, Stage.id == Deal.stage_id)
        .where(*where).subquery()
    )


def _summed(c: Any, by: Sequence[str], where: Iterable[Any], deal_seen: Any = None, *, head: Sequence[Any] = ()) -> Any:
    """The MEASURES added up per ``by``; the deal side only where ``deal_seen`` holds."""
    def deal_side(column: Any) -> Any:
        return func.sum(column if deal_seen is None else case((deal_seen, column)))

    keys = [c[name] for name in by]
    return (select(*head, *keys, func.sum(c.leads), *(deal_side(c[m]) for m in MEASURES[1:])).where(*where).group_by(*keys))


# -- kept per day ------------------------------------------------------------------------------


def store(session: Session, days: Sequence[date] | None) -> None:
    rows = _lead_rows(session, within(Lead.created_at, days=days))
    names = ["grain", "day", *KEYS, *MEASURES]
    session.execute(insert(ReportLeadDay).from_select(names, _summed(rows.c, ("day", *KEYS), [], head=[literal(DAY)])))


def store_months(session: Session, months: Iterable[date]) -> None:
    """Month rows: the month's day rows added up."""
    t = ReportLeadDay.__table__
    names = ["grain", "day", *KEYS, *MEASURES]
    for month in months:
        session.execute(delete(t).where(t.c.grain == MONTH, t.c.day == month))
        summed = _summed(t.c, KEYS, [t.c.grain == DAY, t.c.day >= month, t.c.day < next_month(month)],
                         head=[literal(MONTH), literal(month, Date)])
        session.execute(insert(t).from_select(names, summed))


def forget(session: Session, days: Sequence[date] | None) -> None:
    stmt = delete(ReportLeadDay)
    session.execute(stmt if days is None else stmt.where(ReportLeadDay.grain == DAY, ReportLeadDay.day.in_(days)))


# -- read ------------------------------------------------------------------------------------


def by_touch(session: Session, flt: ReportFilter, actor: Actor) -> Sums:
    """The leads created in the range per first touch, within the filter and the actor's
    rights: the stored rows of unchanged days, the changed days from the leads."""
    def conditions(c: Any) -> tuple[list[Any], Any]:
        leads = [*visible_owner_conditions(session, c.owner_id, flt, actor), *([] if flt.source is None else [c.source == flt.source])]
        deals = [*visible_to(session, c.deal_owner_id, actor), *([] if flt.pipeline_id is None else [c.pipeline_id == flt.pipeline_id])]
        return leads, and_(*deals) if deals else None

    out: Sums = defaultdict(lambda: [0, 0, Decimal("0"), 0, Decimal("0")])

    def add(stmt: Any) -> None:
        for row in session.execute(stmt):
            sums = out[tuple(row[:3])]
            for n, value in enumerate(row[3:]):
                if value is not None:
                    sums[n] += Decimal(value) if MEASURES[n].endswith("amount") else int(value)

    changed = changed_in(stale_days(session), flt.start, flt.end)
    if changed is None or changed:
        rows = _lead_rows(session, in_range(Lead.created_at, flt) if changed is None else within(Lead.created_at, days=changed))
        where, deal_seen = conditions(rows.c)
        add(_summed(rows.c, BY_TOUCH, where, deal_seen))
    if changed is not None:
        t = ReportLeadDay.__table__
        where, deal_seen = conditions(t.c)
        for part in stored_parts(t.c, flt.start, flt.end, changed):
            add(_summed(t.c, BY_TOUCH, [*where, part], deal_seen))
    return out
