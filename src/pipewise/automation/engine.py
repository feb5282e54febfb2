"""The automation engine: enrolls records when a trigger fires and the conditions hold,
then moves each enrollment step by step through durable timers.

A step that is due later (a wait, a retry) is a ``scheduled_action`` whose key is the
step's idempotency key ``wf:<version>:<enrollment>:<step>``; the worker claims a batch of
them (``FOR UPDATE SKIP LOCKED``), locks their enrollments in one statement, and runs each
enrollment on from its step through every following step that is due now, in the claim's
transaction: a killed worker loses nothing and repeats nothing it committed. An enrollment
made by the worker (from an event or a schedule) runs its first steps the same way, in the
event's transaction, up to the first step with an external effect, which waits for a
timer so that its key is that of a committed enrollment. Before acting, every step
re-checks the record and the goals. Locks are always taken in the order scheduled action
→ enrollment."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from pipewise import origin as origins
from pipewise.auth.models import User
from pipewise.auth.visibility import owner_clause
from pipewise.automation import batch, conditions, holdouts
from pipewise.automation.acting import Acting, acting_for, record_owner
from pipewise.automation.actions import ActionStep
from pipewise.automation.batch import RUNNING_STATES
from pipewise.automation.context import PermanentStepFailure, StepContext, StepFailed
from pipewise.automation.definition import WorkflowDefinition, load
from pipewise.automation.explanations import record_decision
from pipewise.automation.flow import Branch, Goal, Wait
from pipewise.automation.models import OPEN_ENROLLMENT_STATES, Decision, Enrollment, Workflow, WorkflowVersion
from pipewise.automation.settings import get_automation_settings
from pipewise.automation.triggers import RecordDeleted, TimedTrigger, event_matches
from pipewise.crm.models import Task
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import cached_lookup, dialect_insert, has_cached_lookup, insert_later
from pipewise.events import bus
from pipewise.events.models import OutboxEvent, ScheduledAction
from pipewise.records.registry import spec_for
from pipewise.runs import timers
from pipewise.runs.holdout import HELD_OUT
from pipewise.runs.retry import RetryPolicy
from pipewise.runs.verdicts import Verdict

STEP_KIND = "automation.step"
TICK_KIND = "automation.tick"
# A date-based wait whose target moved by less than this is treated as due.
DUE_SLACK = timedelta(seconds=1)


GO = Verdict("go", "go", "the record is there, the owner may act on it and no goal holds")


def step_key(enrollment: Enrollment, step_id: str) -> str:
    return timers.timer_key("wf", enrollment.version_id.hex, enrollment.id.hex, step_id)


def step_retries() -> RetryPolicy:
    """A failed action step is tried again after 30 s, 1 min, 2 min … (at most an hour
    apart) until the configured number of attempts is used up."""
    return RetryPolicy(first=timedelta(seconds=30), cap=timedelta(hours=1), limit=get_automation_settings().max_attempts)


@dataclass
class Run:
    """One enrollment with what it runs on, loaded once per step.

    ``chain``: steps due now run in this transaction (``queued`` is the next one) rather
    than through a timer; ``committed``: the enrollment exists outside this transaction,
    so steps with external effects may run too."""

    session: Session
    workflow: Workflow
    version: WorkflowVersion
    definition: WorkflowDefinition
    enrollment: Enrollment
    now: datetime
    chain: bool = False
    committed: bool = True
    queued: str | None = None
    ran: set[str] = field(default_factory=set)
    held_record: Any = None  # keeps the record in the identity map between steps

    def decide(self, kind: str, message: str, *, step_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        record_decision(
            self.session,
            workflow=self.workflow,
            version_number=self.version.number,
            enrollment=self.enrollment,
            kind=kind,
            message=message,
            step_id=step_id,
            details=details,
            at=self.now,
        )

    def record(self) -> Any:
        self.held_record = self.session.get(spec_for(self.enrollment.record_type).model, self.enrollment.record_id)
        return self.held_record

    def acting(self) -> Acting:
        return acting_for(self.session, self.workflow)


# -- enrolling ---------------------------------------------------------------------------


@dataclass
class EnrollResult:
    status: str  # enrolled | not_enrolled | already_enrolled | held_out
    reason: str
    enrollment: Enrollment | None = None


def enroll(
    session: Session,
    *,
    workflow: Workflow,
    version: WorkflowVersion,
    record_id: uuid.UUID,
    summary: str,
    now: datetime | None = None,
    trigger_event_id: int | None = None,
    occurrence: str = "",
    test_mode: bool = False,
    tester: User | None = None,
    check_conditions: bool = True,
    explain_rejection: bool = True,
    chain: bool = False,
    gone_owner: uuid.UUID | None = None,
) -> EnrollResult:
    """Enroll one record if the workflow's owner may see it, the conditions hold and it
    may enroll; explain the outcome. ``occurrence`` names this firing of the trigger (used
    when re-enrollment is allowed). ``chain`` (the worker): run the first steps now, up to
    one with an external effect. ``gone_owner``: the owner of a deleted record."""
    now = now or utcnow()
    definition = load(version)
    record_type = definition.record_type
    record = session.get(spec_for(record_type).model, record_id)
    refusal = acting_for(session, workflow).refusal_for(record_type, record_owner(record) if record else gone_owner)
    if refusal is not None:
        if explain_rejection:
            record_decision(
                session, workflow=workflow, version_number=version.number, kind="not_enrolled", message=refusal,
                record_type=record_type, record_id=record_id, details={"trigger": summary, "test_mode": test_mode},
            )
        return EnrollResult("not_enrolled", refusal)
    verdict = None
    if check_conditions and definition.conditions is not None and not isinstance(definition.trigger, RecordDeleted):
        if record is None:
            return EnrollResult("not_enrolled", f"the {record_type} does not exist")
        verdict = conditions.explain(session, record_type, record_id, definition.conditions)
        if not verdict.ok:
            if explain_rejection:
                record_decision(
                    session, workflow=workflow, version_number=version.number, kind="not_enrolled",
                    message=verdict.text, record_type=record_type, record_id=record_id,
                    details={"trigger": summary, "values": verdict.values, "test_mode": test_mode},
                )
            return EnrollResult("not_enrolled", verdict.text)
    run_key = _run_key(session, workflow, definition, record_type, record_id, occurrence, test_mode)
    enrollment = None if run_key is None else _insert_enrollment(session, {
        "workflow_id": workflow.id, "version_id": version.id, "record_type": record_type, "record_id": record_id,
        "run_key": run_key, "test_mode": test_mode, "tester_id": tester.id if tester else None,
        "trigger_event_id": trigger_event_id, "enrolled_at": now,
    })
    if enrollment is None:
        return EnrollResult("already_enrolled", f"this {record_type} is already in the workflow")
    run = Run(session, workflow, version, definition, enrollment, now, chain=chain, committed=False)
    if (held := holdouts.hold_out_new(session, workflow, enrollment, now)) is not None:
        finish(run, HELD_OUT, HELD_OUT, f"{summary}; {held.reason}")
        return EnrollResult(HELD_OUT, held.reason, enrollment)
    message = summary + (f"; {verdict.text}" if verdict is not None else "")
    run.decide("enrolled", message, details={"values": verdict.values} if verdict else None)
    enter_step(run, definition.first_step())
    advance(run)
    return EnrollResult("enrolled", message, enrollment)


def _insert_enrollment(session: Session, values: dict[str, Any]) -> Enrollment | None:
    """Insert the enrollment unless the unique (workflow, record, run key) says it exists
    (another worker may have enrolled the record a moment ago); None then. No savepoint:
    the row is inserted directly and the object attached as loaded."""
    row = {
        "id": uuid7(), "status": "running", "current_step": None, "attempt": 0, "action_key": None,
        "wait_until": None, "wait_event": None, "armed_goals": [], "finished_at": None, "exit_reason": None, **values,
    }
    known = batch.enrolled_once(session, row["workflow_id"], row["record_id"]) if row["run_key"] == "" else None
    if known is True:
        return None
    if known is False and bus.optimistic(session):
        # With the rest of the batch's enrollments; should another worker have enrolled the
        # record meanwhile, the unique key fails the batch, which then runs item by item.
        insert_later(session, Enrollment, row, ignore_conflicts=False)
    else:
        stmt = dialect_insert(session)(Enrollment).values(**row).on_conflict_do_nothing().returning(Enrollment.id)
        if session.execute(stmt).scalar() is None:
            return None
    enrollment = Enrollment(**row)
    make_transient_to_detached(enrollment)
    session.add(enrollment)
    batch.track_new(session, enrollment)
    return enrollment


def _run_key(
    session: Session, workflow: Workflow, definition: WorkflowDefinition, record_type: str, record_id: uuid.UUID,
    occurrence: str, test_mode: bool,
) -> str | None:
    if test_mode:
        return f"test:{uuid7().hex}"
    if not definition.reenrolls:
        return ""
    session.flush()  # a run this batch ended counts as ended
    still_running = session.scalar(
        select(Enrollment.id).where(
            Enrollment.workflow_id == workflow.id, Enrollment.record_type == record_type,
            Enrollment.record_id == record_id, Enrollment.status.in_(OPEN_ENROLLMENT_STATES),
            Enrollment.test_mode.is_(False),
        ).limit(1)
    )
    return None if still_running else (occurrence or uuid7().hex)


# -- moving through the steps ------------------------------------------------------------


def schedule_step(run: Run, step_id: str, run_at: datetime, *, suffix: str = "") -> None:
    """Schedule the step; the enrollment remembers the timer's key, so any other timer
    for it (from before a pause, a retry or a moved date) finds itself stale."""
    run.enrollment.action_key = timers.schedule_step(
        run.session, key=step_key(run.enrollment, step_id) + suffix, kind=STEP_KIND, run_at=run_at,
        enrollment_id=run.enrollment.id, step_id=step_id,
    )


def enter_step(run: Run, step_id: str | None) -> None:
    """Point the enrollment at ``step_id`` and schedule it (a wait: at its end)."""
    enrollment = run.enrollment
    if step_id is None:
        finish(run, "completed", "completed", "every step is done")
        return
    enrollment.current_step, enrollment.attempt = step_id, 0
    enrollment.wait_until, enrollment.wait_event = None, None
    step = run.definition.step(step_id)
    if not isinstance(step, Wait):
        enrollment.status = "running"
        if _runs_now(run, step):
            run.queued = step_id
        else:
            schedule_step(run, step_id, run.now)
        return
    due = step.target(run.session, enrollment.record_type, run.record(), run.now)
    if due is None:
        run.decide("waited", f"{step.describe()}: the date is empty, so no wait", step_id=step_id)
        enter_step(run, run.definition.following(step_id))
        return
    if step.waits_for_event and (early := _arrived_already(run, step)) is not None:
        run.decide("waited", f"{early.name} had already arrived", step_id=step_id, details={"event_id": early.id})
        enter_step(run, run.definition.following(step_id))
        return
    enrollment.status, enrollment.wait_until, enrollment.wait_event = "waiting", due, step.event_pattern()
    if enrollment.test_mode:
        run.decide("waiting", f"{step.describe()}: would wait until {_when(due)}; test mode goes on now", step_id=step_id)
        schedule_step(run, step_id, run.now)
        return
    run.decide("waiting", f"{step.describe()}: until {_when(due)}", step_id=step_id, details={"until": due.isoformat()})
    schedule_step(run, step_id, due)


def _runs_now(run: Run, step: Any) -> bool:
    """Whether a step due now runs in this transaction. Not a step this run already took
    (a loop goes through its timer, as a step's key runs once), nor an external effect
    of an enrollment that is not committed yet (a crash would give it another key)."""
    if not run.chain or step.id in run.ran:
        return False
    return run.committed or not getattr(step, "external", False)


def _arrived_already(run: Run, step: Wait) -> OutboxEvent | None:
    """A matching event about the record since the run began (its trigger event) or its
    last wait ended: handled before this wait existed, it still counts for it."""
    enrollment = run.enrollment
    run.session.flush()  # events this transaction recorded count too (deferred decisions are written first)
    since = run.session.scalar(
        select(Decision.at)
        .where(Decision.enrollment_id == enrollment.id, Decision.kind == "waited")
        .order_by(Decision.id.desc())
        .limit(1)
    )
    if since is None and enrollment.trigger_event_id is not None:
        since = run.session.scalar(select(OutboxEvent.occurred_at).where(OutboxEvent.id == enrollment.trigger_event_id))
    since = since or enrollment.enrolled_at
    rows = run.session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.record_type == enrollment.record_type, OutboxEvent.record_id == enrollment.record_id,
            OutboxEvent.occurred_at >= since,
        )
        .order_by(OutboxEvent.id)
        .limit(200)
    )
    pattern = step.event_pattern() or {}
    return next((row for row in rows if event_matches(pattern, bus.Event.from_row(row))), None)


def finish(run: Run, status: str, kind: str, message: str, *, step_id: str | None = None) -> None:
    enrollment = run.enrollment
    enrollment.status, enrollment.finished_at, enrollment.exit_reason = status, run.now, message
    enrollment.wait_until, enrollment.wait_event = None, None
    run.decide(kind, message, step_id=step_id)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def goal_reached(run: Run) -> str | None:
    """The explanation of the first goal that holds now, or None."""
    trees = [run.definition.goal] if run.definition.goal is not None else []
    trees += [run.definition.step(step_id).condition for step_id in run.enrollment.armed_goals or []]
    enrollment = run.enrollment
    for tree in trees:
        if conditions.matches(run.session, enrollment.record_type, enrollment.record_id, tree):
            return conditions.explain(run.session, enrollment.record_type, enrollment.record_id, tree).text
    return None


def load_run(session: Session, enrollment: Enrollment, now: datetime | None = None) -> Run:
    workflow = batch.held(session, Workflow, enrollment.workflow_id)
    version = batch.held(session, WorkflowVersion, enrollment.version_id)
    return Run(session, workflow, version, load(version), enrollment, now or utcnow())


def run_step(session: Session, action: ScheduledAction) -> None:
    """The handler of ``automation.step`` actions. The writes are flushed with the
    worker's batch rather than before each query."""
    with session.no_autoflush:
        _run_step(session, action)


def _run_step(session: Session, action: ScheduledAction) -> None:
    timer = timers.StepTimer.of(action)
    enrollment = batch.locked_enrollment(session, timer.enrollment_id)
    step_id = timer.step_id
    if (
        enrollment is None
        or enrollment.status not in RUNNING_STATES
        or enrollment.current_step != step_id
        or enrollment.action_key != action.key
    ):
        return  # a stale timer: the enrollment moved on, was paused or ended
    run = load_run(session, enrollment)
    if run.workflow.status == "paused" and not enrollment.test_mode:
        action.status = "cancelled"  # resuming the workflow sets it pending again
        return
    run.chain, run.queued = True, step_id
    advance(run)


def advance(run: Run) -> None:
    """Run the queued step, and each step it queues in turn (steps due now)."""
    with run.session.no_autoflush:
        while run.queued is not None:
            step_id, run.queued = run.queued, None
            run.ran.add(step_id)
            _run_one(run, step_id)


def may_go_on(run: Run, record: Any) -> Verdict:
    """The re-check before every step: the record is still there (unless the trigger is its
    deletion), the workflow's owner may still act on it, and no goal holds yet. An exit's
    code is the kind of decision it is logged as."""
    enrollment = run.enrollment
    if record is None and not isinstance(run.definition.trigger, RecordDeleted):
        return Verdict("exit", "exited", f"the {enrollment.record_type} was deleted")
    acting = run.acting()
    refusal = acting.refusal if record is None else acting.refusal_for(enrollment.record_type, record_owner(record))
    if refusal is not None:
        return Verdict("exit", "skipped", refusal)
    if (held := holdouts.guard(run.session, run.workflow, enrollment)) is not None:
        return held
    if (goal := goal_reached(run)) is not None:
        return Verdict("exit", "exited", f"goal met: {goal}")
    return GO


def _run_one(run: Run, step_id: str) -> None:
    session, enrollment = run.session, run.enrollment
    record = run.record()
    verdict = may_go_on(run, record)
    if not verdict.clear:
        finish(run, "exited", verdict.code, verdict.reason, step_id=step_id)
        return
    step = run.definition.step(step_id)
    if isinstance(step, Wait):
        _finish_wait(run, step)
    elif isinstance(step, Branch):
        verdict = conditions.explain(session, enrollment.record_type, enrollment.record_id, step.condition)
        target = run.definition.jump(step.then if verdict.ok else step.else_, step_id)
        path = "yes" if verdict.ok else "no"
        run.decide("branched", f"{verdict.text} → {path}, next: {target or 'end'}", step_id=step_id, details={"values": verdict.values})
        enter_step(run, target)
    elif isinstance(step, Goal):
        enrollment.armed_goals = [*(enrollment.armed_goals or []), step_id]
        run.decide("goal_armed", f"{step.describe()} — checked from now on", step_id=step_id)
        enter_step(run, run.definition.following(step_id))
    else:
        _act(run, step, record)


def _finish_wait(run: Run, step: Wait) -> None:
    enrollment = run.enrollment
    if step.waits_for_event:
        run.decide("waited", f"no {step.event} within {step.timeout}; going on", step_id=step.id)
        enter_step(run, run.definition.jump(step.on_timeout, step.id))
        return
    if step.until_field() and not enrollment.test_mode:
        due = step.target(run.session, enrollment.record_type, run.record(), run.now)
        if due is not None and due > run.now + DUE_SLACK:
            enrollment.wait_until = due
            run.decide("waiting", f"the date moved; now waiting until {_when(due)}", step_id=step.id)
            schedule_step(run, step.id, due, suffix=f"@{int(due.timestamp())}")
            return
    run.decide("waited", f"{step.describe()}: done waiting", step_id=step.id)
    enter_step(run, run.definition.following(step.id))


def _act(run: Run, step: ActionStep, record: Any) -> None:
    """Run an action step. Its effects carry the step's key, which retries keep."""
    enrollment = run.enrollment
    tester = run.session.get(User, enrollment.tester_id) if enrollment.tester_id else None
    key = step_key(enrollment, step.id)
    ctx = StepContext(run.session, run.workflow, run.version, enrollment, record, key, run.now, run.acting(), tester)
    with origins.acting("workflow", via=f"workflow {run.workflow.name} ({run.workflow.id})"):
        _execute(run, step, ctx)


def _execute(run: Run, step: ActionStep, ctx: StepContext) -> None:
    if bus.optimistic(run.session) and not step.external:
        # The worker's batch is optimistic: a failure here rolls the whole batch back and
        # runs it again with savepoints, where it lands in the handlers below.
        outcome = step.execute(ctx)
    else:
        try:
            with run.session.begin_nested():
                outcome = step.execute(ctx)
        except PermanentStepFailure as exc:
            _fail(run, step, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - any failure of one step is retried, then dead-lettered
            _retry_or_fail(run, step, str(exc) if isinstance(exc, StepFailed) else f"{exc.__class__.__name__}: {exc}")
            return
    run.decide("skipped" if outcome.skipped else "acted", outcome.message, step_id=step.id, details=outcome.details)
    enter_step(run, run.definition.following(step.id))


def _retry_or_fail(run: Run, step: ActionStep, error: str) -> None:
    enrollment = run.enrollment
    enrollment.attempt += 1
    retries = step_retries()
    if retries.gives_up(enrollment.attempt):
        _fail(run, step, f"{error} (gave up after {enrollment.attempt} attempts)")
        return
    retry_at = run.now + retries.delay(enrollment.attempt)
    run.decide(
        "retrying", f"{step.describe()}: {error}; attempt {enrollment.attempt} of {retries.limit}, next at {_when(retry_at)}",
        step_id=step.id, details={"error": error, "attempt": enrollment.attempt},
    )
    schedule_step(run, step.id, retry_at, suffix=f"#{enrollment.attempt}")


def _fail(run: Run, step: ActionStep, error: str) -> None:
    """Dead-letter: the enrollment stops at this step until a person retries or cancels it."""
    run.enrollment.status = "failed"
    run.enrollment.exit_reason = error
    run.decide("failed", f"{step.describe()}: {error}", step_id=step.id, details={"error": error})


# -- events: enrollment, goals, waits for an event -----------------------------------------


def related_record_ids(session: Session, event: bus.Event) -> set[uuid.UUID]:
    """The records an event is about: its own, and for activities and tasks the records
    they are logged on."""
    ids = {event.record_id} if event.record_id else set()
    changes = event.payload.get("changes") or {}
    if event.record_type == "activity":
        for link in ("lead_id", "contact_id", "account_id", "deal_id"):
            value = (changes.get(link) or [None, None])[1]
            if value:
                ids.add(uuid.UUID(str(value)))
    elif event.record_type == "task" and event.record_id:
        related = session.scalar(select(Task.related_id).where(Task.id == event.record_id))
        if related:
            ids.add(related)
    return ids


def prepare_events(session: Session, events: list[bus.Event]) -> None:
    """Once per batch of events: load the records the listening workflows may enroll and
    the open runs on every record the events are about."""
    _hold_listening(session, {name for event in events for name in event.names})
    enrolling: dict[str, set[uuid.UUID]] = {}
    listening: set[uuid.UUID] = set()
    for event in events:
        for workflow, _version, _seen in _listening_to(session, event):
            if event.record_id and event.record_type == workflow.record_type:
                enrolling.setdefault(workflow.record_type, set()).add(event.record_id)
                listening.add(workflow.id)
    for record_type, ids in enrolling.items():
        batch.hold_records(session, record_type, ids)
    batch.prepare_enrolled(session, listening, set().union(*enrolling.values()))
    batch.prepare_open_runs(session, set().union(*(related_record_ids(session, event) for event in events)))


def on_event(session: Session, event: bus.Event) -> None:
    """The ``*`` subscriber: start workflows whose trigger matches, then let the event
    end waits and meet goals of the runs on the records it is about. Writes are flushed
    with the worker's batch; the few reads that need them flush first."""
    with session.no_autoflush:
        _on_event(session, event)


def _on_event(session: Session, event: bus.Event) -> None:
    now = utcnow()
    for workflow, version, seen in _listening_to(session, event):
        hit = load(version).trigger.match(session, seen)
        if hit is not None:
            enroll(
                session, workflow=workflow, version=version, record_id=hit.record_id, summary=hit.summary,
                now=now, trigger_event_id=event.id, occurrence=f"e{event.id}", chain=True, gone_owner=_gone_owner(event),
            )
    related = related_record_ids(session, event)
    if not related:
        return
    for enrollment in batch.open_runs(session, related, event.id):
        _react(session, enrollment, event, now)


def _gone_owner(event: bus.Event) -> uuid.UUID | None:
    """The owner a deleted record had (its deletion event carries its last values)."""
    if not event.name.endswith(".deleted"):
        return None
    owner = ((event.payload.get("changes") or {}).get("owner_id") or [None])[0]
    return uuid.UUID(str(owner)) if owner else None


def _listening_to(session: Session, event: bus.Event) -> list[tuple[Any, Any, bus.Event]]:
    """The workflows listening to any of the event's names (a stage change is also a
    ``deal.updated``), each with the event as its trigger names it: one delivery, every
    workflow that should hear it."""
    return [
        (workflow, version, event if name == event.name else event.named(name))
        for name in event.names
        for workflow, version in _listening(session, name)
    ]


_LIVE = (
    select(Workflow, WorkflowVersion)
    .join(WorkflowVersion, WorkflowVersion.id == Workflow.live_version_id)
    .where(Workflow.status == "active")
)


def _listening(session: Session, event_name: str) -> list[Any]:
    """The active workflows (with their live versions) whose trigger listens to
    ``event_name``, looked up once per transaction (a worker's batch of events)."""
    return cached_lookup(session, Workflow, ("automation.listening", event_name), lambda: session.execute(
        _LIVE.where(Workflow.trigger_event == event_name)
    ).all())


def _hold_listening(session: Session, event_names: set[str]) -> None:
    """``_listening`` for every one of ``event_names`` in one statement, where asking name
    by name cost a worker's pass a statement per kind of event in its batch."""
    missing = [name for name in event_names if not has_cached_lookup(session, Workflow, ("automation.listening", name))]
    if len(missing) < 2:
        return
    found: dict[str, list[Any]] = {name: [] for name in missing}
    for row in session.execute(_LIVE.where(Workflow.trigger_event.in_(missing))).all():
        found[row[0].trigger_event].append(row)
    for name, rows in found.items():
        cached_lookup(session, Workflow, ("automation.listening", name), lambda rows=rows: rows)


def lock_for_change(session: Session, enrollment: Enrollment, now: datetime) -> bool:
    """Lock the enrollment's pending action, then the enrollment (the engine's lock order).
    False when a worker is running its step right now (that step re-checks for itself)
    or the enrollment moved on meanwhile."""
    key = enrollment.action_key
    if key and session.get_bind().dialect.name == "postgresql":
        claimed = session.scalar(select(ScheduledAction.id).where(ScheduledAction.key == key).with_for_update(skip_locked=True))
        if claimed is None:
            due = session.scalar(select(ScheduledAction.run_at).where(ScheduledAction.key == key))
            if due is None or due <= now:
                return False
            session.scalar(select(ScheduledAction.id).where(ScheduledAction.key == key).with_for_update())
    session.refresh(enrollment, with_for_update=True)
    return enrollment.action_key == key and enrollment.status in RUNNING_STATES


def cancel_pending_action(session: Session, enrollment: Enrollment) -> None:
    if enrollment.action_key:
        session.execute(
            update(ScheduledAction)
            .where(ScheduledAction.key == enrollment.action_key, ScheduledAction.status == "pending")
            .values(status="cancelled")
        )


def _react(session: Session, enrollment: Enrollment, event: bus.Event, now: datetime) -> None:
    waiting_for = enrollment.wait_event
    run = load_run(session, enrollment, now)
    has_goals = run.definition.goal is not None or bool(enrollment.armed_goals)
    released = bool(waiting_for) and event_matches(waiting_for, event)
    if not (released or has_goals):
        return
    session.flush()  # what this batch did is seen by the lock and the goal check
    if not lock_for_change(session, enrollment, now):
        return
    if has_goals and (goal := goal_reached(run)) is not None:
        cancel_pending_action(session, enrollment)
        finish(run, "exited", "exited", f"goal met on {event.name}: {goal}", step_id=enrollment.current_step)
        return
    if released and enrollment.wait_event == waiting_for:
        cancel_pending_action(session, enrollment)
        step_id = enrollment.current_step
        run.decide("waited", f"{event.name} arrived", step_id=step_id, details={"event_id": event.id})
        enter_step(run, run.definition.following(step_id))


# -- time-based triggers ---------------------------------------------------------------------

TICK_BATCH = 5000


def schedule_tick(session: Session, workflow: Workflow, version: WorkflowVersion, after: datetime) -> datetime:
    trigger = load(version).trigger
    assert isinstance(trigger, TimedTrigger)
    every = timedelta(minutes=get_automation_settings().check_every_minutes)
    slot = trigger.next_check(after, every)
    bus.schedule(
        session, key=timers.timer_key("wf-tick", version.id.hex, int(slot.timestamp())), kind=TICK_KIND, run_at=slot,
        payload={"workflow_id": str(workflow.id), "version_id": str(version.id)},
    )
    return slot


def run_tick(session: Session, action: ScheduledAction) -> None:
    """The handler of ``automation.tick``: enroll the records a time-based trigger names."""
    workflow = session.get(Workflow, uuid.UUID(action.payload["workflow_id"]))
    version_id = uuid.UUID(action.payload["version_id"])
    if workflow is None or workflow.status != "active" or workflow.live_version_id != version_id:
        return  # deactivated or replaced: its ticks stop here
    version = session.get(WorkflowVersion, version_id)
    enroll_due(session, workflow, version, action.run_at)
    schedule_tick(session, workflow, version, max(action.run_at, utcnow()))


def enroll_due(session: Session, workflow: Workflow, version: WorkflowVersion, now: datetime) -> int:
    definition = load(version)
    trigger = definition.trigger
    assert isinstance(trigger, TimedTrigger)
    reach = acting_for(session, workflow).reach
    if reach is None:
        return 0  # the owner is deactivated: the workflow does not act
    candidates = trigger.due(now)
    model = spec_for(definition.record_type).model
    visible = owner_clause(model.owner_id, reach.actor, write=False)
    if visible is not None:
        candidates = candidates.where(candidates.selected_columns[0].in_(select(model.id).where(visible)))
    filtered_in_sql = candidates.get_final_froms()[0] is model.__table__ and definition.conditions is not None
    if filtered_in_sql:
        candidates = candidates.where(conditions.ConditionCompiler(session, spec_for(definition.record_type)).compile(definition.conditions))
    if not definition.reenrolls:
        enrolled = select(Enrollment.record_id).where(Enrollment.workflow_id == workflow.id, Enrollment.run_key == "")
        candidates = candidates.where(candidates.selected_columns[0].not_in(enrolled))
    count = 0
    for record_id, label in session.execute(candidates.limit(TICK_BATCH)).all():
        result = enroll(
            session, workflow=workflow, version=version, record_id=record_id,
            summary=trigger.describe() + (f" ({label})" if isinstance(label, str) else ""), now=now,
            occurrence=f"t{int(now.timestamp())}", check_conditions=not filtered_in_sql, explain_rejection=False,
            chain=True,
        )
        count += result.status == "enrolled"
    return count
