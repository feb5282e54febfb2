"""What starts a workflow. Event triggers match an outbox event by name and data and name
the record to enroll; time-based triggers (absence, date-relative, overdue tasks, cron)
are checked by a periodic tick that lists the records due."""

import fnmatch
import uuid
from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Date, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from pipewise.crm.models import Activity, Task
from pipewise.events.bus import Event
from pipewise.records.registry import spec_for

# Record types a workflow may enroll.
ENROLLABLE = ("lead", "contact", "account", "deal", "task")
ACTIVITY_TYPES = ("call", "email", "meeting", "note")
EMAIL_EVENTS = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed")
TICK = "tick"
MANUAL = "manual"


@dataclass(frozen=True)
class Hit:
    """A trigger fired for this record; ``summary`` says why, for the explanation."""

    record_id: uuid.UUID
    summary: str


class TriggerBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_type: str = "contact"

    @field_validator("record_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ENROLLABLE:
            raise ValueError(f"must be one of {', '.join(ENROLLABLE)}")
        return value

    @abstractmethod
    def event_name(self) -> str:
        ...

    def match(self, session: Session, event: Event) -> Hit | None:
        return None

    @abstractmethod
    def describe(self) -> str:
        ...


def _changes(event: Event) -> dict[str, Any]:
    return event.payload.get("changes") or {}


def _data(event: Event) -> dict[str, Any]:
    return event.payload.get("data") or {}


class RecordCreated(TriggerBase):
    type: Literal["record_created"]

    def event_name(self) -> str:
        return f"{self.record_type}.created"

    def match(self, session: Session, event: Event) -> Hit | None:
        return Hit(event.record_id, f"{self.record_type} created") if event.record_id else None

    def describe(self) -> str:
        return f"a {self.record_type} is created"


class RecordUpdated(TriggerBase):
    type: Literal["record_updated"]

    def event_name(self) -> str:
        return f"{self.record_type}.updated"

    def match(self, session: Session, event: Event) -> Hit | None:
        fields = ", ".join(sorted(_changes(event))) or "no fields"
        return Hit(event.record_id, f"{self.record_type} updated ({fields})") if event.record_id else None

    def describe(self) -> str:
        return f"a {self.record_type} is updated"


class RecordDeleted(TriggerBase):
    """Fires after the record is gone: only steps that need no record (webhook,
    notification to a named user) make sense here."""

    type: Literal["record_deleted"]

    def event_name(self) -> str:
        return f"{self.record_type}.deleted"

    def match(self, session: Session, event: Event) -> Hit | None:
        return Hit(event.record_id, f"{self.record_type} deleted") if event.record_id else None

    def describe(self) -> str:
        return f"a {self.record_type} is deleted"


class FieldChanged(TriggerBase):
    type: Literal["field_changed"]
    field: str
    from_: Any = Field(None, alias="from")
    to: Any = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def event_name(self) -> str:
        return f"{self.record_type}.updated"

    def match(self, session: Session, event: Event) -> Hit | None:
        key = self.field.removeprefix("custom.")
        changes = _changes(event)
        if self.field.startswith("custom."):
            old_custom, new_custom = changes.get("custom", [None, None])
            old, new = (old_custom or {}).get(key), (new_custom or {}).get(key)
            if old == new:
                return None
        elif self.field in changes:
            old, new = changes[self.field]
        else:
            return None
        if self.from_ is not None and str(old) != str(self.from_):
            return None
        if self.to is not None and str(new) != str(self.to):
            return None
        return Hit(event.record_id, f"{self.record_type}.{self.field} changed from {old} to {new}")

    def describe(self) -> str:
        where = (f" from {self.from_}" if self.from_ is not None else "") + (f" to {self.to}" if self.to is not None else "")
        return f"{self.record_type}.{self.field} changes{where}"


class StageChanged(TriggerBase):
    type: Literal["stage_changed"]
    record_type: str = "deal"
    from_stage_id: uuid.UUID | None = None
    to_stage_id: uuid.UUID | None = None
    to_stage: str | None = Field(None, description="stage name, e.g. Proposal")
    to_kind: Literal["open", "won", "lost"] | None = None

    def event_name(self) -> str:
        return "deal.stage_changed"

    def match(self, session: Session, event: Event) -> Hit | None:
        data = _data(event)
        if self.from_stage_id and data.get("from_stage_id") != str(self.from_stage_id):
            return None
        if self.to_stage_id and data.get("to_stage_id") != str(self.to_stage_id):
            return None
        if self.to_stage and (data.get("to_stage") or "").lower() != self.to_stage.lower():
            return None
        if self.to_kind and data.get("kind") != self.to_kind:
            return None
        return Hit(event.record_id, f"deal moved to {data.get('to_stage') or data.get('to_stage_id')}")

    def describe(self) -> str:
        return f"a deal moves to {self.to_stage or self.to_kind or 'another stage'}"


class ScoreCrossed(TriggerBase):
    type: Literal["score_crossed"]
    record_type: str = "lead"
    threshold: int | None = None
    direction: Literal["up", "down"] | None = None

    def event_name(self) -> str:
        return f"{self.record_type}.score_crossed"

    def match(self, session: Session, event: Event) -> Hit | None:
        data = _data(event)
        if self.threshold is not None and data.get("threshold") != self.threshold:
            return None
        if self.direction is not None and data.get("direction") != self.direction:
            return None
        return Hit(event.record_id, f"score {data.get('score')} crossed {data.get('threshold')} going {data.get('direction')}")

    def describe(self) -> str:
        return f"a {self.record_type}'s score crosses {self.threshold if self.threshold is not None else 'a threshold'}"


class ActivityLogged(TriggerBase):
    """Enrolls the record the activity is logged on (its contact, lead, account or deal)."""

    type: Literal["activity_logged"]
    activity_type: Literal["call", "email", "meeting", "note"] | None = None

    def event_name(self) -> str:
        return "activity.created"

    def match(self, session: Session, event: Event) -> Hit | None:
        changes = _changes(event)
        logged_type = (changes.get("type") or [None, None])[1]
        if self.activity_type and logged_type != self.activity_type:
            return None
        linked = (changes.get(f"{self.record_type}_id") or [None, None])[1]
        if linked is None:
            return None
        return Hit(uuid.UUID(str(linked)), f"{logged_type} logged")

    def describe(self) -> str:
        return f"{self.activity_type or 'an activity'} is logged on a {self.record_type}"


class EmailEvent(TriggerBase):
    type: Literal["email_event"]
    event: Literal["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"]

    def event_name(self) -> str:
        return f"email.{self.event}"

    def match(self, session: Session, event: Event) -> Hit | None:
        if event.record_type not in (None, self.record_type) or event.record_id is None:
            return None
        subject = _data(event).get("subject")
        return Hit(event.record_id, f"e-mail {self.event}" + (f": {subject}" if subject else ""))

    def describe(self) -> str:
        return f"an e-mail to a {self.record_type} is {self.event}"


class QuoteEvent(TriggerBase):
    """The buyer's side of a quote as a sales signal: enrolls the quote's deal (or its
    contact or account, by ``record_type``)."""

    type: Literal["quote_event"]
    record_type: str = "deal"
    event: Literal["sent", "viewed", "accepted", "declined", "expired"]

    def event_name(self) -> str:
        return f"quote.{self.event}"

    def match(self, session: Session, event: Event) -> Hit | None:
        data = _data(event)
        record_id = data.get(f"{self.record_type}_id")
        if not record_id:
            return None
        return Hit(uuid.UUID(str(record_id)), f"quote {data.get('number')} {self.event}")

    def describe(self) -> str:
        return f"a quote on a {self.record_type} is {self.event}"


class BillingEvent(TriggerBase):
    """Orders, invoices and stock as signals: an order confirmed, delivered or cancelled
    and an invoice posted, paid or overdue enroll their deal; stock running low enrolls the
    task it made for whoever keeps the stock."""

    type: Literal["billing_event"]
    record_type: str = "deal"
    event: Literal["order_confirmed", "order_delivered", "order_cancelled", "invoice_posted", "invoice_paid",
                   "invoice_overdue", "stock_low"]

    @model_validator(mode="before")
    @classmethod
    def _stock_enrolls_its_task(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("event") == "stock_low" and "record_type" not in value:
            return {**value, "record_type": "task"}
        return value

    @model_validator(mode="after")
    def _enrolls_what_the_event_names(self) -> "BillingEvent":
        wanted = "task" if self.event == "stock_low" else "deal"
        if self.record_type != wanted:
            raise ValueError(f"billing {self.event} enrolls a {wanted}, not a {self.record_type}")
        return self

    def event_name(self) -> str:
        return f"billing.{self.event}"

    def match(self, session: Session, event: Event) -> Hit | None:
        data = _data(event)
        record_id = data.get(f"{self.record_type}_id")
        if not record_id:
            return None
        what = data.get("number") or data.get("sku") or ""
        return Hit(uuid.UUID(str(record_id)), f"{self.event.replace('_', ' ')} {what}".strip())

    def describe(self) -> str:
        return "stock of a product runs low" if self.event == "stock_low" else f"billing: {self.event.replace('_', ' ')}"


class TaskCompleted(TriggerBase):
    """Enrolls the task itself (record_type task) or the record it is about."""

    type: Literal["task_completed"]
    record_type: str = "task"

    def event_name(self) -> str:
        return "task.updated"

    def match(self, session: Session, event: Event) -> Hit | None:
        status = _changes(event).get("status")
        if not status or status[1] != "done" or event.record_id is None:
            return None
        if self.record_type == "task":
            return Hit(event.record_id, "task completed")
        task = session.get(Task, event.record_id)
        if task is None or task.related_type != self.record_type or task.related_id is None:
            return None
        return Hit(task.related_id, f"task completed: {task.title}")

    def describe(self) -> str:
        return "a task is completed" + ("" if self.record_type == "task" else f" on a {self.record_type}")


class MeetingHappened(TriggerBase):
    """A meeting fact (``meeting.booked`` … ``meeting.no_show``); enrolls its contact or deal.
    A no-show can start a re-booking sequence this way."""

    type: Literal["meeting_event"]
    event: Literal["booked", "rescheduled", "cancelled", "held", "no_show"]

    @model_validator(mode="after")
    def _linked(self) -> "MeetingHappened":
        if self.record_type not in ("contact", "deal"):
            raise ValueError("meeting triggers enroll the meeting's contact or deal")
        return self

    def event_name(self) -> str:
        return f"meeting.{self.event}"

    def match(self, session: Session, event: Event) -> Hit | None:
        linked = _data(event).get(f"{self.record_type}_id")
        if not linked:
            return None
        return Hit(uuid.UUID(str(linked)), f"meeting {self.event.replace('_', '-')}: {_data(event).get('title', '')}")

    def describe(self) -> str:
        return f"a meeting with a {self.record_type} is {self.event.replace('_', '-')}"


# -- time-based triggers --------------------------------------------------------------


class TimedTrigger(TriggerBase):
    def event_name(self) -> str:
        return TICK

    def next_check(self, after: datetime, every: timedelta) -> datetime:
        return after + every

    @abstractmethod
    def due(self, now: datetime) -> Select:
        """SELECT of (record id, summary) for the records this trigger enrolls now."""


class TaskOverdue(TimedTrigger):
    type: Literal["task_overdue"]
    record_type: str = "task"

    def due(self, now: datetime) -> Select:
        overdue = and_(Task.status == "open", Task.due_at < now)
        if self.record_type == "task":
            return select(Task.id, Task.title).where(overdue)
        return select(Task.related_id, Task.title).where(overdue, Task.related_type == self.record_type)

    def describe(self) -> str:
        return "a task is overdue" + ("" if self.record_type == "task" else f" on a {self.record_type}")


class NoActivity(TimedTrigger):
    type: Literal["no_activity"]
    days: int = Field(gt=0)

    @model_validator(mode="after")
    def _has_activities(self) -> "NoActivity":
        if self.record_type == "task":
            raise ValueError("activities are logged on leads, contacts, accounts and deals")
        return self

    def due(self, now: datetime) -> Select:
        model = spec_for(self.record_type).model
        link = getattr(Activity, f"{self.record_type}_id")
        cutoff = now - timedelta(days=self.days)
        last = select(func.max(Activity.occurred_at)).where(link == model.id).scalar_subquery()
        quiet = or_(last < cutoff, and_(last.is_(None), model.created_at < cutoff))
        return select(model.id, model.id).where(quiet)

    def describe(self) -> str:
        return f"no activity on a {self.record_type} for {self.days} days"


class NoReply(TimedTrigger):
    """An outbound e-mail logged at least ``days`` ago with no inbound e-mail since."""

    type: Literal["no_reply"]
    days: int = Field(gt=0)

    @model_validator(mode="after")
    def _person(self) -> "NoReply":
        if self.record_type not in ("contact", "lead"):
            raise ValueError("no-reply triggers watch contacts or leads")
        return self

    def due(self, now: datetime) -> Select:
        model = spec_for(self.record_type).model
        touch, reply = aliased(Activity), aliased(Activity)
        cutoff = now - timedelta(days=self.days)
        last_touch = (
            select(func.max(touch.occurred_at))
            .where(getattr(touch, f"{self.record_type}_id") == model.id, touch.type == "email", touch.direction == "outbound")
            .correlate(model)
            .scalar_subquery()
        )
        replies_since = (
            select(reply.id)
            .where(
                getattr(reply, f"{self.record_type}_id") == model.id, reply.type == "email",
                reply.direction == "inbound", reply.occurred_at > last_touch,
            )
            .correlate(model)
            .exists()
        )
        return select(model.id, model.id).where(last_touch < cutoff, ~replies_since)

    def describe(self) -> str:
        return f"no reply {self.days} days after an e-mail to a {self.record_type}"


class DateRelative(TimedTrigger):
    type: Literal["date_relative"]
    field: str
    days: int = Field(ge=0)
    when: Literal["before", "after"] = "before"

    @model_validator(mode="after")
    def _date_field(self) -> "DateRelative":
        if not self.field.startswith("custom."):
            column = spec_for(self.record_type).model.__table__.columns.get(self.field)
            if column is None:
                raise ValueError(f"{self.record_type} has no field {self.field!r}")
            if not hasattr(column.type, "python_type") or column.type.python_type.__name__ not in ("date", "datetime"):
                raise ValueError(f"{self.record_type}.{self.field} is not a date")
        return self

    def target_day(self, now: datetime) -> Any:
        offset = timedelta(days=self.days)
        return (now + offset).date() if self.when == "before" else (now - offset).date()

    def due(self, now: datetime) -> Select:
        model = spec_for(self.record_type).model
        day = self.target_day(now)
        if self.field.startswith("custom."):
            column: Any = model.custom[self.field[7:]].as_string()
            return select(model.id, model.id).where(column == day.isoformat())
        column = getattr(model, self.field)
        if isinstance(column.type, Date):
            return select(model.id, model.id).where(column == day)
        start = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo)
        return select(model.id, model.id).where(column >= start, column < start + timedelta(days=1))

    def describe(self) -> str:
        return f"{self.days} days {self.when} a {self.record_type}'s {self.field}"


class Schedule(TimedTrigger):
    """Every slot of a cron expression, the records matching the conditions enroll."""

    type: Literal["schedule"]
    cron: str

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression such as '0 9 * * 1-5'")
        return value

    def next_check(self, after: datetime, every: timedelta) -> datetime:
        return croniter(self.cron, after).get_next(datetime)

    def due(self, now: datetime) -> Select:
        model = spec_for(self.record_type).model
        return select(model.id, model.id)

    def describe(self) -> str:
        return f"on the schedule {self.cron} (UTC)"


class Manual(TriggerBase):
    type: Literal["manual"]

    def event_name(self) -> str:
        return MANUAL

    def describe(self) -> str:
        return f"a person or an API client enrolls chosen {spec_for(self.record_type).plural}"


Trigger = Annotated[
    RecordCreated
    | RecordUpdated
    | RecordDeleted
    | FieldChanged
    | StageChanged
    | ScoreCrossed
    | ActivityLogged
    | EmailEvent
    | QuoteEvent
    | BillingEvent
    | TaskCompleted
    | MeetingHappened
    | TaskOverdue
    | NoActivity
    | NoReply
    | DateRelative
    | Schedule
    | Manual,
    Field(discriminator="type"),
]


TRIGGER_TYPES = (
    "record_created record_updated record_deleted field_changed stage_changed score_crossed activity_logged "
    "email_event quote_event billing_event meeting_event task_completed task_overdue no_activity no_reply date_relative "
    "schedule manual"
).split()


def event_matches(pattern: dict[str, Any], event: Event) -> bool:
    """A wait-for-event step's pattern ``{"name": "email.replied", "where": {...}}``."""
    if not any(fnmatch.fnmatchcase(name, pattern.get("name", "")) for name in event.names):
        return False
    values = dict(_data(event))
    values.update({k: v[1] for k, v in _changes(event).items() if isinstance(v, list) and len(v) == 2})
    return all(str(values.get(k)) == str(v) for k, v in (pattern.get("where") or {}).items())

