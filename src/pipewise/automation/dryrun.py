"""Dry-run: replay the recorded events of a time window through a (draft) workflow and
report which records would have enrolled, which steps would have run and when — with no
side effects: it only reads.

Conditions, branches and goals judge a record's own fields as they were at that moment
(rebuilt from its field history: every later change undone), and the fields of related
records and related lists as they are now; waits are laid out from the event's time, and
a wait for an event is released by a matching event in the window.

The replay keeps the engine's rule on rights: a record the workflow's owner cannot see
(``acting``) is reported as not enrolled, and a record the person asking cannot see
(``viewer``) is left out of the report altogether."""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import replacement_traverse

from pipewise.auth.visibility import Actor
from pipewise.automation import conditions
from pipewise.automation.acting import Acting, Reach, record_owner
from pipewise.automation.actions import ActionStep
from pipewise.automation.definition import WorkflowDefinition
from pipewise.automation.flow import Branch, Goal, Wait
from pipewise.automation.settings import get_automation_settings
from pipewise.automation.triggers import Manual, RecordDeleted, TimedTrigger, event_matches
from pipewise.errors import ValidationFailed
from pipewise.events.bus import Event
from pipewise.events.models import OutboxEvent
from pipewise.records.history import record_as_of
from pipewise.records.registry import spec_for

MAX_EVENTS = 100_000
MAX_SLOTS = 2_000
MAX_STEPS_PER_RUN = 200
MAX_RUNS_REPORTED = 1_000
# The live engine judges an event's conditions when the worker takes it up, just after the
# event's transaction; the replay looks at the records as they were this long after it.
PICKUP_DELAY = timedelta(seconds=1)


@dataclass
class SimulatedStep:
    step_id: str
    type: str
    at: datetime
    action: str


@dataclass
class SimulatedRun:
    record_id: uuid.UUID
    enrolled_at: datetime
    reason: str
    steps: list[SimulatedStep] = field(default_factory=list)
    outcome: str = "completed"


@dataclass
class Rejection:
    record_id: uuid.UUID
    at: datetime
    reason: str


@dataclass
class Report:
    start: datetime
    end: datetime
    trigger: str
    events_scanned: int = 0
    runs: list[SimulatedRun] = field(default_factory=list)
    not_enrolled: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["enrolled_count"] = len(self.runs)
        data["not_enrolled_count"] = len(self.not_enrolled)
        return data


def simulate(
    session: Session, definition: WorkflowDefinition, *, start: datetime, end: datetime, acting: Acting | None = None,
    viewer: Actor | None = None,
) -> Report:
    """Replay the window. ``acting``: whose rights the workflow has (None: the system's);
    ``viewer``: who reads the report (None: the operator, who sees everything)."""
    if end <= start:
        raise ValidationFailed.on("end", "must be after start")
    sees = Reach.of(session, viewer).may_read if viewer is not None else None
    model = spec_for(definition.record_type).model
    trigger = definition.trigger
    report = Report(start=start, end=end, trigger=trigger.describe())
    events = _events(session, start, end)
    report.events_scanned = len(events)
    if len(events) >= MAX_EVENTS:
        report.notes.append(f"only the first {MAX_EVENTS:,} events of the window were replayed")
    if isinstance(trigger, Manual):
        report.notes.append("a manual workflow enrolls only the records a person chooses; nothing to replay")
        return report
    seen: set[uuid.UUID] = set()
    for at, record_id, summary in _firings(session, definition, events, start, end):
        if record_id in seen and not definition.reenrolls:
            continue
        if len(report.runs) >= MAX_RUNS_REPORTED:
            report.notes.append(f"only the first {MAX_RUNS_REPORTED:,} runs are reported")
            break
        record = session.get(model, record_id)
        owner_id = record_owner(record)
        # A record deleted since has no owner left to judge by: only the operator sees its run.
        if sees is not None and (not sees(owner_id) or (record is None and not viewer.is_admin)):
            continue
        refusal = acting.refusal_for(definition.record_type, owner_id) if acting is not None else None
        if refusal is not None:
            report.not_enrolled.append(Rejection(record_id, at, refusal))
            continue
        verdict = None
        if definition.conditions is not None and not isinstance(trigger, RecordDeleted):
            then = AsOfExplainer(session, definition.record_type, record_id, at + PICKUP_DELAY)
            if then.record is None:
                continue
            verdict = then.explain(definition.conditions)
            if not verdict.ok:
                report.not_enrolled.append(Rejection(record_id, at, verdict.text))
                continue
        seen.add(record_id)
        reason = summary + (f"; {verdict.text}" if verdict else "")
        report.runs.append(_walk(session, definition, record_id, at, reason, events, end))
    return report


def _events(session: Session, start: datetime, end: datetime) -> list[Event]:
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.occurred_at >= start, OutboxEvent.occurred_at < end)
        .order_by(OutboxEvent.id)
        .limit(MAX_EVENTS)
    )
    return [Event.from_row(row) for row in rows]


def _firings(
    session: Session, definition: WorkflowDefinition, events: list[Event], start: datetime, end: datetime
) -> list[tuple[datetime, uuid.UUID, str]]:
    trigger = definition.trigger
    if isinstance(trigger, TimedTrigger):
        return _timed_firings(session, trigger, start, end)
    name = trigger.event_name()
    firings = []
    for event in events:
        if name not in event.names:
            continue
        hit = trigger.match(session, event)
        if hit is not None:
            firings.append((event.occurred_at, hit.record_id, hit.summary))
    return firings


def _timed_firings(session: Session, trigger: TimedTrigger, start: datetime, end: datetime) -> list[tuple[datetime, uuid.UUID, str]]:
    every = timedelta(minutes=get_automation_settings().check_every_minutes)
    firings = []
    slot = trigger.next_check(start, every)
    for _ in range(MAX_SLOTS):
        if slot >= end:
            break
        for record_id, _label in session.execute(trigger.due(slot)).all():
            firings.append((slot, record_id, trigger.describe()))
        slot = trigger.next_check(slot, every)
    return firings


def _walk(
    session: Session, definition: WorkflowDefinition, record_id: uuid.UUID, at: datetime, reason: str,
    events: list[Event], end: datetime,
) -> SimulatedRun:
    run = SimulatedRun(record_id=record_id, enrolled_at=at, reason=reason)
    record_type = definition.record_type
    goals = [definition.goal] if definition.goal is not None else []
    step_id: str | None = definition.first_step()
    moment = at
    for _ in range(MAX_STEPS_PER_RUN):
        if step_id is None:
            return run
        then = AsOfExplainer(session, record_type, record_id, moment)
        if any(then.explain(goal).ok for goal in goals):
            run.outcome = "would leave the workflow: its goal holds"
            return run
        step = definition.step(step_id)
        if isinstance(step, Wait):
            released, until = _wait(session, step, record_type, then.record, record_id, moment, events)
            if until is None:
                run.steps.append(SimulatedStep(step.id, "wait", moment, f"{step.describe()}: the date is empty, no wait"))
                step_id = definition.following(step.id)
                continue
            moment = until
            if moment >= end:
                run.outcome = f"still waiting at the end of the window (until {moment:%Y-%m-%d %H:%M} UTC)"
                return run
            run.steps.append(SimulatedStep(step.id, "wait", moment, step.describe() + (" — released by the event" if released else "")))
            step_id = definition.following(step.id) if released or not step.waits_for_event else definition.jump(step.on_timeout, step.id)
        elif isinstance(step, Branch):
            verdict = then.explain(step.condition)
            target = definition.jump(step.then if verdict.ok else step.else_, step.id)
            run.steps.append(SimulatedStep(step.id, "branch", moment, f"{verdict.text} → {'yes' if verdict.ok else 'no'}"))
            step_id = target
        elif isinstance(step, Goal):
            goals.append(step.condition)
            run.steps.append(SimulatedStep(step.id, "goal", moment, step.describe()))
            step_id = definition.following(step.id)
        else:
            assert isinstance(step, ActionStep)
            run.steps.append(SimulatedStep(step.id, step.type, moment, step.describe()))
            step_id = definition.following(step.id)
    run.outcome = "stopped: too many steps"
    return run


def _wait(
    session: Session, step: Wait, record_type: str, record: Any, record_id: uuid.UUID, moment: datetime,
    events: list[Event],
) -> tuple[bool, datetime | None]:
    """(released by an event, when the wait ends); None when a date wait has no date."""
    due = step.target(session, record_type, record, moment)
    if due is None or not step.waits_for_event:
        return False, due
    pattern = step.event_pattern() or {}
    for event in events:
        if moment <= event.occurred_at <= due and event.record_id == record_id and event_matches(pattern, event):
            return True, event.occurred_at
    return False, due


class AsOfExplainer(conditions.Explainer):
    """Explains a condition on a record's own fields as they were at ``at``: the compiled
    condition is evaluated with the record's columns replaced by those earlier values, so
    it means exactly what the live check means."""

    def __init__(self, session: Session, record_type: str, record_id: uuid.UUID, at: datetime) -> None:
        super().__init__(session, record_type, record_id)
        self.values = record_as_of(session, record_type, record_id, at)
        self.record = SimpleNamespace(**self.values) if self.values is not None else None

    def holds(self, field_name: str, op: str, expected: Any) -> bool:
        if self.values is None:
            return False
        leaf = {"field": field_name, "op": op, "value": expected}
        clause = conditions.ConditionCompiler(self.session, self.spec).compile(leaf)
        table = self.spec.model.__table__
        values = self.values

        def earlier_value(element: Any) -> Any:
            if isinstance(element, Column) and element.table is table:
                return literal(values.get(element.key), type_=element.type)
            return None

        return bool(self.session.scalar(select(replacement_traverse(clause, {}, earlier_value))))
