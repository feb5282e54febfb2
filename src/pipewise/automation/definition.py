"""The workflow format: a trigger, optional enrollment conditions and goal, and steps.
``parse`` checks its shape (unknown fields, types); ``check_for_activation`` checks what
only the database can tell (fields, stages, users) and the flow (unreachable steps, loops,
jump targets, templates)."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise import netguard
from pipewise.auth.models import Team, User
from pipewise.automation import conditions
from pipewise.automation.actions import (
    AddTag,
    AssignOwner,
    CreateDeal,
    CreateTask,
    EnrollInSequence,
    MoveStage,
    Notify,
    RemoveFromSequence,
    RemoveTag,
    SendEmail,
    SetField,
    Webhook,
)
from pipewise.automation.flow import Branch, Goal, Wait
from pipewise.automation.templates import runaway_problem, template_problem
from pipewise.automation.triggers import TRIGGER_TYPES, DateRelative, Trigger
from pipewise.deals.models import Stage
from pipewise.errors import ErrorCollector, FieldError, ValidationFailed
from pipewise.records.filters import FilterError
from pipewise.records.models import CustomFieldDefinition
from pipewise.records.registry import spec_for

END = "end"
# Step fields that are templates.
TEXT_FIELDS = ("title", "notes", "body", "subject", "name", "value")

Step = Annotated[
    SetField
    | CreateTask
    | AssignOwner
    | CreateDeal
    | MoveStage
    | EnrollInSequence
    | RemoveFromSequence
    | Notify
    | SendEmail
    | AddTag
    | RemoveTag
    | Webhook
    | Wait
    | Branch
    | Goal,
    Field(discriminator="type"),
]
STEP_TYPES = (
    "set_field create_task assign_owner create_deal move_stage enroll_in_sequence remove_from_sequence "
    "notify send_email add_tag remove_tag webhook wait branch goal"
).split()


class WorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: Trigger
    conditions: dict[str, Any] | None = Field(None, description="filter a record must match to enroll")
    goal: dict[str, Any] | None = Field(None, description="filter that ends a run as soon as it holds")
    allow_reenrollment: bool = False
    steps: list[Step] = Field(min_length=1)

    @property
    def record_type(self) -> str:
        return self.trigger.record_type

    @property
    def reenrolls(self) -> bool:
        """A record may run again once its last run ended (always, for a schedule)."""
        return self.allow_reenrollment or self.trigger.type == "schedule"

    def step(self, step_id: str) -> Any:
        return self._index()[step_id][1]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index()

    def first_step(self) -> str:
        return self.steps[0].id

    def following(self, step_id: str) -> str | None:
        """Where the run goes after ``step_id`` when nothing else says (None: it ends)."""
        position, step = self._index()[step_id]
        if step.next is not None:
            return None if step.next == END else step.next
        return self.steps[position + 1].id if position + 1 < len(self.steps) else None

    def jump(self, target: str | None, step_id: str) -> str | None:
        if target is None:
            return self.following(step_id)
        return None if target == END else target

    def successors(self, step_id: str) -> list[str]:
        step = self.step(step_id)
        targets = [self.following(step_id)]
        if isinstance(step, Branch):
            targets = [self.jump(step.then, step_id), self.jump(step.else_, step_id)]
        elif isinstance(step, Wait) and step.waits_for_event:
            targets.append(self.jump(step.on_timeout, step_id))
        return [t for t in targets if t is not None]

    def _index(self) -> dict[str, tuple[int, Any]]:
        cached = self.__dict__.get("_step_index")
        if cached is None:
            cached = {s.id: (i, s) for i, s in enumerate(self.steps)}
            self.__dict__["_step_index"] = cached
        return cached


def _location(loc: tuple[Any, ...]) -> str:
    """``("steps", 1, "wait", "duration")`` → ``steps[1].duration`` (union tags dropped)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
        elif item not in STEP_TYPES and item not in TRIGGER_TYPES and not str(item).startswith("function-"):
            parts.append(str(item))
    return ".".join(parts) or "definition"


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "is not a known field"
    if error["type"] == "union_tag_invalid":
        kinds = TRIGGER_TYPES if error["loc"][0] == "trigger" else STEP_TYPES
        return f"unknown type; use one of {', '.join(kinds)}"
    return str(error["msg"]).removeprefix("Value error, ")


# Bounds on a definition's shape, checked before anything walks it recursively.
MAX_DEPTH = 32
MAX_NODES = 20_000


def shape_problem(value: Any) -> str | None:
    """Whether a document is nested deeper than MAX_DEPTH or holds more than MAX_NODES
    values (aliases in YAML count each time they are used); None when it is fine."""
    stack, nodes = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return f"holds too many values (more than {MAX_NODES:,})"
        if depth > MAX_DEPTH:
            return f"is nested too deeply (more than {MAX_DEPTH} levels)"
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return None


def check_shape(value: Any, field_name: str) -> None:
    if (problem := shape_problem(value)) is not None:
        raise ValidationFailed.on(field_name, problem)


def _condition_trees(definition: WorkflowDefinition, prefix: str) -> list[tuple[Any, str]]:
    trees = [(getattr(definition, name), f"{prefix}.{name}") for name in ("conditions", "goal")]
    trees += [(step.condition, f"{prefix}.steps[{i}].condition") for i, step in enumerate(definition.steps)
              if isinstance(step, (Branch, Goal))]
    return [(tree, where) for tree, where in trees if tree is not None]


def parse(raw: Any, *, prefix: str = "definition") -> WorkflowDefinition:
    """Validate the shape of a workflow definition; every problem becomes a field error."""
    check_shape(raw, prefix)
    try:
        definition = WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        errors = [FieldError(f"{prefix}.{_location(tuple(e['loc']))}", _message(e)) for e in exc.errors()]
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors) from None
    collector = ErrorCollector()
    _check_urls(definition, prefix, collector)
    for tree, where in _condition_trees(definition, prefix):
        for field_name, message in conditions.day_count_problems(tree, where):
            collector.add(field_name, message)
    for position, step in enumerate(definition.steps):
        for text_field in TEXT_FIELDS:
            source = getattr(step, text_field, None)
            if isinstance(source, str) and (problem := runaway_problem(source)):
                collector.add(f"{prefix}.steps[{position}].{text_field}", problem)
    collector.raise_if_any()
    return definition


def _check_urls(definition: WorkflowDefinition, prefix: str, errors: ErrorCollector) -> None:
    """Webhook URLs naming an internal address outright (the real check is at send time)."""
    for position, step in enumerate(definition.steps):
        if isinstance(step, Webhook) and (problem := netguard.url_problem(str(step.url))):
            errors.add(f"{prefix}.steps[{position}].url", problem)


_published: dict[Any, WorkflowDefinition] = {}


def load(version: Any) -> WorkflowDefinition:
    """The parsed definition of a stored version; published versions never change, so
    they are parsed once per process."""
    if version.published_at is None:
        return WorkflowDefinition.model_validate(version.definition)
    found = _published.get(version.id)
    if found is None:
        if len(_published) > 2048:
            _published.clear()
        found = _published[version.id] = WorkflowDefinition.model_validate(version.definition)
    return found


def check_for_activation(session: Session, definition: WorkflowDefinition, prefix: str = "definition") -> None:
    """Everything that must hold before a workflow may run; raises with every problem."""
    errors = ErrorCollector()
    record_type = definition.record_type
    _check_trigger(session, definition, errors, prefix)
    for name in ("conditions", "goal"):
        tree = getattr(definition, name)
        if tree is not None:
            _check_condition(session, record_type, tree, f"{prefix}.{name}", errors)
    ids = [s.id for s in definition.steps]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        errors.add(f"{prefix}.steps", f"step id {duplicate!r} is used twice")
    for position, step in enumerate(definition.steps):
        _check_step(session, definition, step, f"{prefix}.steps[{position}]", errors)
    _check_urls(definition, prefix, errors)
    if not errors.errors:
        _check_flow(definition, prefix, errors)
    errors.raise_if_any()


def _check_trigger(session: Session, definition: WorkflowDefinition, errors: ErrorCollector, prefix: str) -> None:
    trigger = definition.trigger
    field_name = getattr(trigger, "field", None)
    if field_name is not None:
        problem = _field_problem(session, trigger.record_type, field_name)
        if problem:
            errors.add(f"{prefix}.trigger.field", problem)
    if isinstance(trigger, DateRelative) and field_name and field_name.startswith("custom."):
        kind = _custom_type(session, trigger.record_type, field_name[7:])
        if kind not in (None, "date"):
            errors.add(f"{prefix}.trigger.field", f"{field_name} is a {kind} field, not a date")


def _check_condition(session: Session, record_type: str, tree: Any, where: str, errors: ErrorCollector) -> None:
    try:
        conditions.check(session, record_type, tree)
    except FilterError as exc:
        for error in exc.errors:
            errors.add(f"{where}.{error.field.removeprefix('filter.')}", error.message)


def _custom_type(session: Session, record_type: str, key: str) -> str | None:
    return session.scalar(
        select(CustomFieldDefinition.field_type).where(
            CustomFieldDefinition.record_type == record_type, CustomFieldDefinition.key == key
        )
    )


def _field_problem(session: Session, record_type: str, field_name: str) -> str | None:
    spec = spec_for(record_type)
    if field_name.startswith("custom."):
        if _custom_type(session, record_type, field_name[7:]) is None:
            return f"{record_type} has no custom field {field_name[7:]!r}"
        return None
    if field_name in ("id", "created_at", "updated_at") or field_name in spec.hidden_fields:
        return f"{field_name} cannot be used here"
    if spec.model.__table__.columns.get(field_name) is None:
        return f"{record_type} has no field {field_name!r}"
    return None


def _check_step(session: Session, definition: WorkflowDefinition, step: Any, where: str, errors: ErrorCollector) -> None:
    record_type = definition.record_type
    for target_name in ("next", "then", "else_", "on_timeout"):
        target = getattr(step, target_name, None)
        if target is not None and target != END and not definition.has_step(target):
            errors.add(f"{where}.{target_name.rstrip('_')}", f"no step with id {target!r}")
    for text_field in TEXT_FIELDS:
        source = getattr(step, text_field, None)
        if isinstance(source, str) and (problem := template_problem(source)):
            errors.add(f"{where}.{text_field}", problem)
    if isinstance(step, SetField) and (problem := _field_problem(session, record_type, step.field)):
        errors.add(f"{where}.field", problem)
    if isinstance(step, (Branch, Goal)):
        _check_condition(session, record_type, step.condition, f"{where}.condition", errors)
    if isinstance(step, Wait) and (field_name := step.until_field()):
        if problem := _field_problem(session, record_type, field_name):
            errors.add(f"{where}.until", problem)
    if isinstance(step, MoveStage):
        if record_type != "deal":
            errors.add(f"{where}.type", "only deal workflows can move stages")
        elif step.stage_id and session.get(Stage, step.stage_id) is None:
            errors.add(f"{where}.stage_id", f"no stage with id {step.stage_id}")
        elif step.stage and session.scalar(select(Stage.id).where(Stage.name == step.stage).limit(1)) is None:
            errors.add(f"{where}.stage", f"no pipeline has a stage named {step.stage!r}")
    if isinstance(step, (EnrollInSequence, RemoveFromSequence)) and record_type != "contact":
        errors.add(f"{where}.type", "only contact workflows can use sequences")
    if isinstance(step, SendEmail) and step.to == "record" and record_type not in ("contact", "lead"):
        errors.add(f"{where}.to", f"a {record_type} has no e-mail address; send to 'owner' or an address")
    assignee = step.assignee if isinstance(step, (CreateTask, AssignOwner)) else None
    if isinstance(step, Notify):
        assignee = step.recipient
    if assignee is not None:
        if assignee.user_id and session.get(User, assignee.user_id) is None:
            errors.add(f"{where}.assignee.user_id", f"no user with id {assignee.user_id}")
        if assignee.team_id and session.get(Team, assignee.team_id) is None:
            errors.add(f"{where}.assignee.team_id", f"no team with id {assignee.team_id}")


def _check_flow(definition: WorkflowDefinition, prefix: str, errors: ErrorCollector) -> None:
    reachable: set[str] = set()
    frontier = [definition.first_step()]
    while frontier:
        current = frontier.pop()
        if current in reachable:
            continue
        reachable.add(current)
        frontier.extend(definition.successors(current))
    for position, step in enumerate(definition.steps):
        if step.id not in reachable:
            errors.add(f"{prefix}.steps[{position}]", f"step {step.id!r} can never be reached")
    if _has_loop(definition):
        errors.add(f"{prefix}.steps", "the steps form a loop; every run must move forward to an end")


def _has_loop(definition: WorkflowDefinition) -> bool:
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(step_id: str) -> bool:
        if step_id in done:
            return False
        if step_id in visiting:
            return True
        visiting.add(step_id)
        found = any(visit(nxt) for nxt in definition.successors(step_id))
        visiting.discard(step_id)
        done.add(step_id)
        return found

    return visit(definition.first_step())
