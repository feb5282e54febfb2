"""Action steps: each is data (a Pydantic model) with one ``execute(ctx)``. Database
effects commit with the step and go through the services with the workflow owner's
actor (``ctx.actor``), so a change beyond the owner's reach fails, explained; external
effects go through ``effects.once`` keyed by the step's idempotency key. In test mode,
people-facing effects go to the tester and record changes are described instead of made."""

import importlib
import uuid
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.automation import effects, mail
from pipewise.automation.context import PermanentStepFailure, StepContext
from pipewise.automation.models import RecordTag, RoundRobinPosition
from pipewise.automation.templates import render
from pipewise.automation.timing import parse_duration
from pipewise.config import get_settings
from pipewise.crm.service import account_service, contact_service, task_service
from pipewise.db.session import dialect_insert, insert_later
from pipewise.deals.models import Stage
from pipewise.deals.service import deal_service
from pipewise.errors import NotFound, PermissionDenied, ValidationFailed
from pipewise.leads.service import lead_service
from pipewise.notifications.service import notify
from pipewise.records.registry import spec_for
from pipewise.records.service import RecordService
from pipewise.runs.holdout import HELD_OUT
from pipewise.runs.rotation import next_seat, rotation
from pipewise.runs.verdicts import Outcome

STEP_ID = r"^[A-Za-z0-9_-]{1,60}$"


def record_service(record_type: str) -> RecordService[Any]:
    """The domain service of an enrollable record type, with its own validation rules."""
    services: dict[str, RecordService[Any]] = {
        "lead": lead_service, "contact": contact_service, "account": account_service,
        "deal": deal_service, "task": task_service,
    }
    return services[record_type]


class StepBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flow: ClassVar[str] = "action"  # action | wait | branch | goal

    id: str = Field(pattern=STEP_ID)
    label: str | None = None
    next: str | None = Field(None, description="step id to go to next (default: the following step); 'end' to finish")

    def describe(self) -> str:
        return self.label or self.__class__.__name__


class ActionStep(StepBase):
    # Whether the step changes a record (described, not done, in test mode).
    changes_record: ClassVar[bool] = False
    # Whether the step reaches outside the database (e-mail, webhook) through
    # ``effects.once``: it runs only for an enrollment already committed, whose id (and
    # so the step's idempotency key) a crash cannot change.
    external: ClassVar[bool] = False

    @abstractmethod
    def execute(self, ctx: StepContext) -> Outcome:
        ...


@contextmanager
def refused_as_failure(ctx: StepContext, what: str) -> Iterator[None]:
    """A service's refusal (bad data, or beyond the owner's rights) fails the step for good."""
    try:
        yield
    except ValidationFailed as exc:
        raise PermanentStepFailure(f"could not {what}: {exc.detail}") from None
    except (PermissionDenied, NotFound) as exc:
        raise PermanentStepFailure(f"could not {what}: {exc.detail} (the workflow acts as {ctx.acting.label})") from None


def _apply_update(ctx: StepContext, data: dict[str, Any], what: str) -> Outcome:
    if ctx.test_mode:
        return Outcome(f"Test mode: would {what}", {"data": {k: str(v) for k, v in data.items()}}, skipped=True)
    if ctx.record is None:
        raise PermanentStepFailure(f"the {ctx.record_type} no longer exists")
    with refused_as_failure(ctx, what):
        record_service(ctx.record_type).update(ctx.session, ctx.record, data=data, actor=ctx.actor)
    return Outcome(what[0].upper() + what[1:], {"data": {k: str(v) for k, v in data.items()}})


class SetField(ActionStep):
    type: Literal["set_field"]
    changes_record: ClassVar[bool] = True
    field: str
    value: Any = None

    def execute(self, ctx: StepContext) -> Outcome:
        value = render(self.value, ctx.template_context()) if isinstance(self.value, str) and "{{" in self.value else self.value
        if self.field.startswith("custom."):
            data = {"custom": {self.field[7:]: value}}
        else:
            data = {self.field: value}
        return _apply_update(ctx, data, f"set {ctx.record_type}.{self.field} to {value}")

    def describe(self) -> str:
        return self.label or f"Set {self.field} to {self.value}"


class Assignee(BaseModel):
    """Who gets a task, a record or a notification."""

    model_config = ConfigDict(extra="forbid")

    to: Literal["owner", "user", "role", "round_robin"] = "owner"
    user_id: uuid.UUID | None = None
    role: Literal["admin", "manager", "rep"] | None = None
    team_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Assignee":
        needs = {"user": "user_id", "role": "role", "round_robin": "team_id"}.get(self.to)
        if needs and getattr(self, needs) is None:
            raise ValueError(f"'{self.to}' needs {needs}")
        return self

    def describe(self) -> str:
        return {"owner": "the record's owner", "user": f"user {self.user_id}", "role": f"a {self.role}"}.get(
            self.to, f"the next person in team {self.team_id}"
        )

    def resolve(self, ctx: StepContext, scope: str) -> User | None:
        session = ctx.session
        if ctx.test_mode and ctx.tester is not None:
            return ctx.tester
        if self.to == "owner":
            return ctx.owner()
        if self.to == "user":
            return session.get(User, self.user_id)
        if self.to == "role":
            owner = ctx.owner()
            stmt = select(User).where(User.role == self.role, User.is_active.is_(True)).order_by(User.created_at)
            if owner is not None and owner.team_id is not None:
                in_team = session.scalar(stmt.where(User.team_id == owner.team_id).limit(1))
                if in_team is not None:
                    return in_team
            return session.scalar(stmt.limit(1))
        return _next_in_team(session, self.team_id, f"{ctx.workflow.id}:{scope}:{self.team_id}")


def _next_in_team(session: Session, team_id: uuid.UUID | None, scope: str) -> User | None:
    """The team's next active member who is not away, in a plain rotation whose turns are
    counted per workflow step and team (``scope``)."""
    members = list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.is_active.is_(True), User.is_away.is_(False))
            .order_by(User.created_at, User.id)
        )
    )
    if not members:
        return None
    values = {"scope": scope, "position": 0}
    session.execute(dialect_insert(session)(RoundRobinPosition).values(**values).on_conflict_do_nothing(index_elements=["scope"]))
    row = session.scalar(select(RoundRobinPosition).where(RoundRobinPosition.scope == scope).with_for_update())
    seat = next_seat(rotation(members, row.position))
    row.position += 1
    return seat.member if seat else None


class CreateTask(ActionStep):
    type: Literal["create_task"]
    title: str = Field(min_length=1)
    notes: str | None = None
    due_in: str | None = Field(None, description="duration from now, e.g. 2d")
    priority: Literal["low", "normal", "high"] = "normal"
    assignee: Assignee = Field(default_factory=Assignee)

    @field_validator("due_in")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def execute(self, ctx: StepContext) -> Outcome:
        person = self.assignee.resolve(ctx, self.id)
        title = render(self.title, ctx.template_context())
        data: dict[str, Any] = {
            "title": title,
            "notes": render(self.notes, ctx.template_context()) if self.notes else None,
            "priority": self.priority,
            "owner_id": person.id if person else None,
        }
        if self.due_in:
            data["due_at"] = ctx.now + parse_duration(self.due_in)
        if ctx.record_type != "task" and ctx.record is not None:
            data["related_type"], data["related_id"] = ctx.record_type, ctx.record_id
        with refused_as_failure(ctx, "create the task"):
            task = task_service.create(ctx.session, data=data, actor=ctx.actor)
        who = person.name if person else "nobody (no one matched)"
        return Outcome(f"Created task \u201c{title}\u201d for {who}", {"task_id": str(task.id)})

    def describe(self) -> str:
        return self.label or f"Create task \u201c{self.title}\u201d for {self.assignee.describe()}"


class AssignOwner(ActionStep):
    type: Literal["assign_owner"]
    changes_record: ClassVar[bool] = True
    assignee: Assignee

    def execute(self, ctx: StepContext) -> Outcome:
        if ctx.test_mode:
            return Outcome(f"Test mode: would assign the owner to {self.assignee.describe()}", skipped=True)
        person = self.assignee.resolve(ctx, self.id)
        if person is None:
            raise PermanentStepFailure(f"no one to assign: {self.assignee.describe()} matched nobody")
        return _apply_update(ctx, {"owner_id": person.id}, f"assign the owner to {person.name}")

    def describe(self) -> str:
        return self.label or f"Assign the owner to {self.assignee.describe()}"


class CreateDeal(ActionStep):
    type: Literal["create_deal"]
    changes_record: ClassVar[bool] = True
    name: str = Field(min_length=1)
    amount: Decimal | None = None
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None

    def execute(self, ctx: StepContext) -> Outcome:
        name = render(self.name, ctx.template_context())
        if ctx.test_mode:
            return Outcome(f"Test mode: would create the deal \u201c{name}\u201d", skipped=True)
        data: dict[str, Any] = {"name": name, "amount": self.amount, "owner_id": getattr(ctx.record, "owner_id", None)}
        if self.pipeline_id:
            data["pipeline_id"] = self.pipeline_id
        if self.stage_id:
            data["stage_id"] = self.stage_id
        if ctx.record_type == "account":
            data["account_id"] = ctx.record_id
        elif getattr(ctx.record, "account_id", None):
            data["account_id"] = ctx.record.account_id
        with refused_as_failure(ctx, "create the deal"):
            deal = deal_service.create(ctx.session, data=data, actor=ctx.actor)
            if ctx.record_type == "contact":
                ctx.session.flush()
                deal_service.add_contact(ctx.session, deal.id, ctx.record_id, role="primary", actor=ctx.actor)
        return Outcome(f"Created the deal \u201c{name}\u201d", {"deal_id": str(deal.id)})

    def describe(self) -> str:
        return self.label or f"Create a deal \u201c{self.name}\u201d"


class MoveStage(ActionStep):
    type: Literal["move_stage"]
    changes_record: ClassVar[bool] = True
    stage_id: uuid.UUID | None = None
    stage: str | None = Field(None, description="stage name in the deal's pipeline")

    @model_validator(mode="after")
    def _one_stage(self) -> "MoveStage":
        if (self.stage_id is None) == (self.stage is None):
            raise ValueError("give stage_id or stage (a name), not both")
        return self

    def execute(self, ctx: StepContext) -> Outcome:
        if ctx.record_type != "deal" or ctx.record is None:
            raise PermanentStepFailure("only deals have stages")
        stage_id = self.stage_id or ctx.session.scalar(
            select(Stage.id).where(Stage.pipeline_id == ctx.record.pipeline_id, Stage.name == self.stage)
        )
        if stage_id is None:
            raise PermanentStepFailure(f"the deal's pipeline has no stage named {self.stage!r}")
        return _apply_update(ctx, {"stage_id": stage_id}, f"move the deal to {self.stage or stage_id}")

    def describe(self) -> str:
        return self.label or f"Move the deal to {self.stage or self.stage_id}"


def _sequence_service() -> Any:
    try:
        return importlib.import_module("pipewise.sequences.service").sequence_service
    except (ImportError, AttributeError):
        raise PermanentStepFailure("sequences are not available") from None


class EnrollInSequence(ActionStep):
    type: Literal["enroll_in_sequence"]
    sequence_id: uuid.UUID

    def execute(self, ctx: StepContext) -> Outcome:
        service = _sequence_service()
        if ctx.record_type != "contact":
            raise PermanentStepFailure("only contacts can be enrolled in a sequence")
        if ctx.test_mode:
            return Outcome(f"Test mode: would enroll the contact in sequence {self.sequence_id}", skipped=True)
        with refused_as_failure(ctx, "enroll the contact"):
            enrollment = service.enroll(ctx.session, sequence_id=self.sequence_id, contact_id=ctx.record_id, actor=ctx.actor)
        if enrollment.status == HELD_OUT:
            return Outcome(f"Not enrolled in sequence {self.sequence_id}: {enrollment.reason}", skipped=True)
        return Outcome(f"Enrolled in sequence {self.sequence_id}")

    def describe(self) -> str:
        return self.label or f"Enroll in sequence {self.sequence_id}"


class RemoveFromSequence(ActionStep):
    type: Literal["remove_from_sequence"]
    sequence_id: uuid.UUID

    def execute(self, ctx: StepContext) -> Outcome:
        service = _sequence_service()
        if ctx.test_mode:
            return Outcome(f"Test mode: would remove the contact from sequence {self.sequence_id}", skipped=True)
        with refused_as_failure(ctx, "remove the contact"):
            service.unenroll(ctx.session, sequence_id=self.sequence_id, contact_id=ctx.record_id, actor=ctx.actor)
        return Outcome(f"Removed from sequence {self.sequence_id}")

    def describe(self) -> str:
        return self.label or f"Remove from sequence {self.sequence_id}"


def _send_mail(ctx: StepContext, *, to: str, subject: str, body: str) -> dict[str, Any]:
    """Queue the e-mail in the mail ledger, idempotent by the step key (the ledger row and
    the step commit together). A suppressed address or withdrawn consent stops the step
    with the reason instead of sending."""
    try:
        message = mail.send(ctx.session, key=ctx.step_key, to=to, subject=subject, body=body, record=ctx.record, author_id=ctx.workflow.created_by)
    except mail.Refused as exc:
        raise PermanentStepFailure(f"Not sent: {exc.errors[0].message if exc.errors else exc.detail}") from None
    return mail.outcome(message)


class Notify(ActionStep):
    type: Literal["notify"]
    external: ClassVar[bool] = True
    recipient: Assignee = Field(default_factory=Assignee)
    title: str = Field(min_length=1)
    body: str | None = None
    channels: list[Literal["in_app", "email"]] = Field(default_factory=lambda: ["in_app"], min_length=1)

    def execute(self, ctx: StepContext) -> Outcome:
        person = self.recipient.resolve(ctx, self.id)
        if person is None:
            return Outcome(f"Nobody to notify: {self.recipient.describe()} matched no one", skipped=True)
        values = ctx.template_context(person.name)
        title, body = render(self.title, values), render(self.body or "", values)
        if "in_app" in self.channels:
            notify(ctx.session, person.id, "workflow", title, body=body or None, link=f"/{spec_for(ctx.record_type).plural}/{ctx.record_id}",
                   record_type=ctx.record_type, record_id=ctx.record_id, key=ctx.step_key)
        if "email" in self.channels:
            _send_mail(ctx, to=person.email, subject=title, body=body or title)
        return Outcome(f"Notified {person.name} ({', '.join(self.channels)}): {title}", {"user_id": str(person.id)})

    def describe(self) -> str:
        return self.label or f"Notify {self.recipient.describe()}: {self.title}"


class SendEmail(ActionStep):
    type: Literal["send_email"]
    external: ClassVar[bool] = True
    to: str = Field("record", description="'record' (its e-mail), 'owner', or an address")
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)

    def recipient(self, ctx: StepContext) -> str | None:
        if ctx.test_mode and ctx.tester is not None:
            return ctx.tester.email
        if self.to == "record":
            return getattr(ctx.record, "email", None)
        if self.to == "owner":
            owner = ctx.owner()
            return owner.email if owner else None
        return self.to

    def execute(self, ctx: StepContext) -> Outcome:
        if self.to == "record" and getattr(ctx.record, "consent_state", None) == "withdrawn":
            return Outcome("Not sent: the contact has withdrawn consent", skipped=True)
        to = self.recipient(ctx)
        if not to:
            return Outcome(f"Not sent: no e-mail address for {self.to}", skipped=True)
        values = ctx.template_context(to)
        subject, body = render(self.subject, values), render(self.body, values)
        outcome = _send_mail(ctx, to=to, subject=subject, body=body)
        return Outcome(f"Sent the e-mail \u201c{subject}\u201d to {to}", outcome)

    def describe(self) -> str:
        return self.label or f"Send the e-mail \u201c{self.subject}\u201d to {self.to}"


class AddTag(ActionStep):
    type: Literal["add_tag"]
    changes_record: ClassVar[bool] = True
    tag: str = Field(min_length=1, max_length=60)

    def execute(self, ctx: StepContext) -> Outcome:
        if ctx.test_mode:
            return Outcome(f"Test mode: would add the tag {self.tag}", skipped=True)
        values = {"record_type": ctx.record_type, "record_id": ctx.record_id, "tag": self.tag, "created_at": ctx.now}
        insert_later(ctx.session, RecordTag, values)
        return Outcome(f"Added the tag {self.tag}")

    def describe(self) -> str:
        return self.label or f"Add the tag {self.tag}"


class RemoveTag(ActionStep):
    type: Literal["remove_tag"]
    changes_record: ClassVar[bool] = True
    tag: str = Field(min_length=1, max_length=60)

    def execute(self, ctx: StepContext) -> Outcome:
        if ctx.test_mode:
            return Outcome(f"Test mode: would remove the tag {self.tag}", skipped=True)
        ctx.session.execute(
            delete(RecordTag).where(
                RecordTag.record_type == ctx.record_type, RecordTag.record_id == ctx.record_id, RecordTag.tag == self.tag
            )
        )
        return Outcome(f"Removed the tag {self.tag}")

    def describe(self) -> str:
        return self.label or f"Remove the tag {self.tag}"


class Webhook(ActionStep):
    type: Literal["webhook"]
    external: ClassVar[bool] = True
    url: HttpUrl
    secret: str | None = Field(None, description="HMAC key; the instance's secret key when left out")
    body: dict[str, Any] | None = Field(None, description="extra fields sent with the record")

    def payload(self, ctx: StepContext) -> dict[str, Any]:
        return {
            "workflow": {"id": str(ctx.workflow.id), "name": ctx.workflow.name, "version": ctx.version.number},
            "enrollment_id": str(ctx.enrollment.id),
            "step": self.id,
            "record_type": ctx.record_type,
            "record": ctx.record_values(),
            **(self.body or {}),
        }

    def execute(self, ctx: StepContext) -> Outcome:
        if ctx.test_mode:
            return Outcome(f"Test mode: would POST to {self.url}", skipped=True)
        secret = self.secret or get_settings().secret_key
        outcome, replayed = effects.once(
            ctx.session,
            key=ctx.step_key,
            kind="webhook",
            perform=lambda attempt: effects.post_webhook(
                url=str(self.url), payload=self.payload(ctx), key=ctx.step_key, secret=secret, attempt=attempt
            ),
        )
        note = " (already delivered; not repeated)" if replayed else ""
        return Outcome(f"Called {self.url}: HTTP {outcome.get('status')}{note}", outcome)

    def describe(self) -> str:
        return self.label or f"POST to {self.url}"


ACTION_STEPS = (
    SetField, CreateTask, AssignOwner, CreateDeal, MoveStage, EnrollInSequence, RemoveFromSequence,
    Notify, SendEmail, AddTag, RemoveTag, Webhook,
)
