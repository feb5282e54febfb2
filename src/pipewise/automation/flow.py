"""Steps that shape the run rather than act: wait, branch, goal."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from pipewise.automation.actions import StepBase
from pipewise.automation.conditions import _read
from pipewise.automation.timing import add_business_days, parse_duration, show_duration
from pipewise.records.registry import spec_for


class Wait(StepBase):
    """Exactly one of: ``duration`` ("3d"), ``business_days``, ``until`` (a date field of
    the record such as ``close_date``, or an ISO date-time) with ``offset_days``, or
    ``event`` (a name pattern such as ``email.replied``, with ``where`` on its data) with a
    ``timeout`` after which the run goes on to ``on_timeout`` (default: the next step)."""

    type: Literal["wait"]
    flow: ClassVar[str] = "wait"
    duration: str | None = None
    business_days: int | None = Field(None, gt=0)
    until: str | None = None
    offset_days: int = 0
    event: str | None = None
    where: dict[str, Any] | None = None
    timeout: str | None = None
    on_timeout: str | None = None

    @field_validator("duration", "timeout")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "Wait":
        kinds = [k for k in ("duration", "business_days", "until", "event") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a wait takes exactly one of duration, business_days, until, event")
        if self.event is not None and self.timeout is None:
            raise ValueError("waiting for an event needs a timeout, e.g. 7d")
        return self

    @property
    def waits_for_event(self) -> bool:
        return self.event is not None

    def until_field(self) -> str | None:
        """The record field ``until`` names, or None when it is a fixed date-time."""
        if self.until is None:
            return None
        try:
            datetime.fromisoformat(self.until)
        except ValueError:
            return self.until
        return None

    def target(self, session: Any, record_type: str, record: Any, start: datetime) -> datetime | None:
        """When the wait ends, from ``start`` (None: the date field is empty)."""
        if self.duration:
            return start + parse_duration(self.duration)
        if self.business_days:
            return add_business_days(start, self.business_days)
        if self.event is not None:
            return start + parse_duration(self.timeout or "0m")
        field_name = self.until_field()
        if field_name is None:
            fixed = datetime.fromisoformat(self.until or "")
            return fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)
        value = _read(session, spec_for(record_type), record, field_name)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(), UTC)
        else:
            return None
        return moment + timedelta(days=self.offset_days)

    def event_pattern(self) -> dict[str, Any] | None:
        return {"name": self.event, "where": self.where or {}} if self.event else None

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.duration:
            return f"Wait {show_duration(parse_duration(self.duration))}"
        if self.business_days:
            return f"Wait {self.business_days} business days"
        if self.event:
            return f"Wait for {self.event} (at most {show_duration(parse_duration(self.timeout or '0m'))})"
        offset = f" {abs(self.offset_days)} days {'before' if self.offset_days < 0 else 'after'}" if self.offset_days else ""
        return f"Wait until{offset} {self.until}"


class Branch(StepBase):
    type: Literal["branch"]
    flow: ClassVar[str] = "branch"
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    condition: dict[str, Any]
    then: str | None = Field(None, description="step id when the condition holds (default: the next step)")
    else_: str | None = Field(None, alias="else", description="step id when it does not (default: the next step)")

    def describe(self) -> str:
        return self.label or f"If {_short(self.condition)}"


class Goal(StepBase):
    """From this step on, the run ends as soon as ``condition`` holds: checked before every
    later step and on every event about the record."""

    type: Literal["goal"]
    flow: ClassVar[str] = "goal"
    condition: dict[str, Any]

    def describe(self) -> str:
        return self.label or f"Goal: {_short(self.condition)}"


def _short(tree: dict[str, Any]) -> str:
    if "field" in tree:
        value = tree.get("value")
        return f"{tree['field']} {tree.get('op', 'eq')}" + (f" {value}" if value is not None else "")
    for key in ("all", "any"):
        if key in tree:
            return f" {'and' if key == 'all' else 'or'} ".join(_short(t) for t in tree[key])
    if "not" in tree:
        return f"not ({_short(tree['not'])})"
    return "…"
