"""What the pipeline board and the home page add up, in the database rather than over
loaded rows: per stage the count, value and weighted value of the deals a filter selects;
the pipeline's open, weighted and won-this-month value; each deal's next open task.
Every query applies the actor's visibility and the filter language (records/filters.py)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Task
from pipewise.crm.service import task_service
from pipewise.deals.models import Deal, Stage
from pipewise.records.filters import FilterCompiler
from pipewise.records.registry import spec_for
from pipewise.records.service import RecordService

Money = dict[str, Decimal]  # amounts by currency: never added across currencies


def _add(totals: Money, currency: str, amount: Decimal) -> None:
    totals[currency] = totals.get(currency, Decimal(0)) + amount


@dataclass
class StageTotals:
    count: int = 0
    value: Money = field(default_factory=dict)
    weighted: Money = field(default_factory=dict)


@dataclass
class PipelineSummary:
    open_count: int = 0
    open_value: Money = field(default_factory=dict)
    weighted: Money = field(default_factory=dict)
    won_count: int = 0
    won_value: Money = field(default_factory=dict)


def _visible(session: Session, stmt: Select, actor: Actor, tree: dict[str, Any] | None) -> Select:
    stmt = RecordService("deal").repository(session).visible(stmt, actor)
    if tree:
        stmt = stmt.where(FilterCompiler(session, spec_for("deal")).compile(tree))
    return stmt


def _grouped(session: Session, actor: Actor, tree: dict[str, Any] | None) -> list[Any]:
    """(stage id, stage kind, probability, currency, count, sum of amounts) per stage and currency."""
    stmt = (
        select(Deal.stage_id, Stage.kind, Stage.probability, Deal.currency, func.count(Deal.id), func.sum(Deal.amount))
        .join(Stage, Stage.id == Deal.stage_id)
        .group_by(Deal.stage_id, Stage.kind, Stage.probability, Deal.currency)
    )
    return list(session.execute(_visible(session, stmt, actor, tree)))


def stage_totals(session: Session, actor: Actor, tree: dict[str, Any] | None) -> dict[uuid.UUID, StageTotals]:
    """Count, value and weighted value (value × the stage's probability) of the deals ``tree`` selects, by stage."""
    totals: dict[uuid.UUID, StageTotals] = {}
    for stage_id, _kind, probability, currency, count, amount in _grouped(session, actor, tree):
        column = totals.setdefault(stage_id, StageTotals())
        column.count += count
        if amount is not None:
            _add(column.value, currency, Decimal(amount))
            _add(column.weighted, currency, (Decimal(amount) * probability / 100).quantize(Decimal("0.01")))
    return totals


def pipeline_summary(session: Session, actor: Actor, tree: dict[str, Any] | None, *, month_start: datetime) -> PipelineSummary:
    """Open value and its weighted value, and what was won since ``month_start``."""
    summary = PipelineSummary()
    open_tree = {"all": [tree, {"field": "stage.kind", "op": "eq", "value": "open"}]} if tree else {
        "field": "stage.kind", "op": "eq", "value": "open"}
    for _stage, _kind, probability, currency, count, amount in _grouped(session, actor, open_tree):
        summary.open_count += count
        if amount is not None:
            _add(summary.open_value, currency, Decimal(amount))
            _add(summary.weighted, currency, (Decimal(amount) * probability / 100).quantize(Decimal("0.01")))
    won = [{"field": "stage.kind", "op": "eq", "value": "won"},
           {"field": "closed_at", "op": "gte", "value": month_start.isoformat()}]
    for _stage, _kind, _p, currency, count, amount in _grouped(session, actor, {"all": [*([tree] if tree else []), *won]}):
        summary.won_count += count
        if amount is not None:
            _add(summary.won_value, currency, Decimal(amount))
    return summary


def next_tasks(session: Session, actor: Actor, deal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Task]:
    """Each deal's open task due first (undated ones last), among those the actor may see."""
    ids = list(deal_ids)
    if not ids:
        return {}
    stmt = (
        select(Task)
        .where(Task.related_type == "deal", Task.related_id.in_(ids), Task.status == "open")
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )
    found: dict[uuid.UUID, Task] = {}
    for task in session.scalars(task_service.repository(session).visible(stmt, actor)):
        if task.related_id is not None:
            found.setdefault(task.related_id, task)
    return found
