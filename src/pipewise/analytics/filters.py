"""What every report is filtered by: a date range, pipeline, team, owner and lead source,
always within what the acting user may see."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor, owner_clause
from pipewise.errors import ErrorCollector
from pipewise.leads.models import Lead

DEFAULT_DAYS = 365
MAX_DAYS = 366 * 10
INTERVALS = ("week", "month")


@dataclass(frozen=True)
class ReportFilter:
    start: date
    end: date  # inclusive
    pipeline_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    source: str | None = None
    interval: str = "month"

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The end of the range, exclusive."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def as_query(self) -> dict[str, str]:
        """The filter as query parameters (for links to the CSV and the other reports)."""
        values = {"start": self.start.isoformat(), "end": self.end.isoformat(), "pipeline_id": self.pipeline_id,
                  "team_id": self.team_id, "owner_id": self.owner_id, "source": self.source, "interval": self.interval}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def parse_filter(params: dict[str, Any], *, today: date | None = None) -> ReportFilter:
    """Read a filter from query parameters; every bad field is reported at once."""
    errors = ErrorCollector()
    today = today or datetime.now(UTC).date()

    def day(name: str, default: date) -> date:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            return date.fromisoformat(str(raw)[:10])
        except ValueError:
            errors.add(name, "is not a date (YYYY-MM-DD)")
            return default

    def ident(name: str) -> uuid.UUID | None:
        raw = params.get(name)
        if raw in (None, ""):
            return None
        try:
            return uuid.UUID(str(raw))
        except ValueError:
            errors.add(name, "is not an id")
            return None

    end = day("end", today)
    start = day("start", end - timedelta(days=DEFAULT_DAYS))
    if start > end:
        errors.add("start", "is after the end of the range")
    elif (end - start).days > MAX_DAYS:
        errors.add("start", f"the range may span at most {MAX_DAYS} days")
    source = params.get("source") or None
    if source is not None and len(str(source)) > 60:
        errors.add("source", "is longer than 60 characters")
    interval = params.get("interval") or "month"
    if interval not in INTERVALS:
        errors.add("interval", f"is one of {', '.join(INTERVALS)}")
    result = ReportFilter(
        start=start, end=end, pipeline_id=ident("pipeline_id"), team_id=ident("team_id"), owner_id=ident("owner_id"),
        source=str(source) if source is not None else None, interval=str(interval),
    )
    errors.raise_if_any()
    return result


def owner_conditions(owner_column: Any, flt: ReportFilter, actor: Actor) -> list[ColumnElement[bool]]:
    """Visibility, then the team and owner filters, on a record's owner column."""
    visible = owner_clause(owner_column, actor, write=False)
    return [*([] if visible is None else [visible]), *_owner_filters(owner_column, flt)]


def _owner_filters(owner_column: Any, flt: ReportFilter) -> list[ColumnElement[bool]]:
    """The team and owner filters, which only narrow what visibility lets through."""
    conditions: list[ColumnElement[bool]] = []
    if flt.team_id is not None:
        conditions.append(owner_column.in_(select(User.id).where(User.team_id == flt.team_id)))
    if flt.owner_id is not None:
        conditions.append(owner_column == flt.owner_id)
    return conditions


def deal_conditions(deal: Any, flt: ReportFilter, actor: Actor) -> list[ColumnElement[bool]]:
    """Every filter but the date range on the ``deal`` table (or an alias of it)."""
    return [*owner_conditions(deal.owner_id, flt, actor), *_deal_filters(deal, flt)]


def _deal_filters(deal: Any, flt: ReportFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.pipeline_id is not None:
        conditions.append(deal.pipeline_id == flt.pipeline_id)
    if flt.source is not None:
        conditions.append(deal.id.in_(select(Lead.converted_deal_id).where(Lead.source == flt.source)))
    return conditions


def in_range(column: Any, flt: ReportFilter) -> list[ColumnElement[bool]]:
    return [column >= flt.since, column < flt.until]


def visible_to(session: Session, owner_column: Any, actor: Actor) -> list[Any]:
    """``owner_clause`` with the people the actor may see read first and given as a list of
    ids: a subquery in an OR hides from the planner how few rows it keeps (it then hashed
    every deal to join a rep's few converted leads)."""
    if owner_clause(owner_column, actor, write=False) is None:
        return []
    teammates = session.scalars(select(User.id).where(User.team_id.in_(actor.team_ids))) if actor.team_ids else []
    return [or_(owner_column.is_(None), owner_column.in_(sorted({actor.id, *teammates})))]


def visible_owner_conditions(session: Session, owner_column: Any, flt: ReportFilter, actor: Actor) -> list[Any]:
    """``owner_conditions``, visibility as ``visible_to``."""
    return [*visible_to(session, owner_column, actor), *_owner_filters(owner_column, flt)]


def visible_deal_conditions(session: Session, deal: Any, flt: ReportFilter, actor: Actor) -> list[Any]:
    """``deal_conditions``, visibility as ``visible_to``."""
    return [*visible_owner_conditions(session, deal.owner_id, flt, actor), *_deal_filters(deal, flt)]
