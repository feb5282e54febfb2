"""Domain events: frozen, past-tense dataclasses with dotted names, carrying ids only."""

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """A fact, named once. A subclass declares what it carries as typed fields::

        @dataclass(frozen=True, kw_only=True)
        class LeadAssigned(DomainEvent):
            name: ClassVar[str] = "lead.assigned"
            record_type: ClassVar[str] = "lead"
            owner_id: uuid.UUID
            rule: str | None = None

    The stored payload keeps one shape for every event, ``{"data": {field: value}}``, which
    is what workflows, webhooks and the timeline read. ``data`` is the untyped form that
    older events still use; it is merged under the typed fields."""

    name: ClassVar[str] = "event"
    record_type: ClassVar[str | None] = None

    record_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def event_name(self) -> str:
        return self.name

    def event_record_type(self) -> str | None:
        return self.record_type

    def fields(self) -> dict[str, Any]:
        """The typed fields this event declares, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _ENVELOPE}

    def payload(self) -> dict[str, Any]:
        return {"data": _jsonable({**self.data, **self.fields()})}


@dataclass(frozen=True, kw_only=True)
class RecordEvent(DomainEvent):
    """created / updated / deleted for any record type; ``changes`` maps field → [old, new]."""

    action: str = "created"
    type_name: str = ""
    changes: dict[str, Any] = field(default_factory=dict)

    def event_name(self) -> str:
        return f"{self.type_name}.{self.action}"

    def event_record_type(self) -> str | None:
        return self.type_name

    def fields(self) -> dict[str, Any]:
        return {}

    def payload(self) -> dict[str, Any]:
        return {
            "data": _jsonable(self.data),
            "action": self.action,
            "type_name": self.type_name,
            "changes": _jsonable(self.changes),
        }


# Fields every event has; the rest are the event's own.
_ENVELOPE = frozenset({"record_id", "actor_id", "data"})

_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case, checked first: this runs on every write
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


jsonable = _jsonable
