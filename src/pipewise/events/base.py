"""Domain events: frozen, past-tense dataclasses with dotted names, carrying ids only."""

import dataclasses
import functools
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

# The generic changes of any record; a domain's more specific fact is one of these too.
RECORD_ACTIONS = ("created", "updated", "deleted")


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
    older events still use; it is merged under the typed fields.

    Subscribers name the classes they take (``bus.Subscription.to(LeadAssigned, ...)``)."""

    name: ClassVar[str] = "event"
    record_type: ClassVar[str | None] = None
    # Fields every event of this class has; the rest are the event's own.
    envelope: ClassVar[frozenset[str]] = frozenset({"record_id", "actor_id", "data"})

    record_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def event_name(self) -> str:
        return self.name

    def event_record_type(self) -> str | None:
        return self.record_type

    def fields(self) -> dict[str, Any]:
        """The typed fields this event declares, by name."""
        return {name: getattr(self, name) for name in _own_fields(type(self))}

    def payload(self) -> dict[str, Any]:
        return {"data": _jsonable({**self.data, **self.fields()})}


@dataclass(frozen=True, kw_only=True)
class RecordEvent(DomainEvent):
    """created / updated / deleted for any record type; ``changes`` maps field → [old, new].

    The record kernel writes these for every record, named ``<type>.<action>``. A domain
    declares the ones its subscribers take as subclasses that only name them::

        class DealUpdated(RecordEvent):
            name: ClassVar[str] = "deal.updated"

    and may declare a more specific fact as a subclass of one of them, with typed fields
    of its own (``DealStageChanged(DealUpdated)``, named ``deal.stage_changed``). Such an
    event is stored once, under its own name, and still reaches whoever takes the general
    one: its payload keeps ``action`` and ``type_name``, so it answers to both names
    (``bus.Event.names``)."""

    name: ClassVar[str] = ""  # "": named by its record type and action
    envelope: ClassVar[frozenset[str]] = DomainEvent.envelope | {"action", "type_name", "changes"}

    action: str = ""
    type_name: str = ""
    changes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type_name and self.action:  # the common case: the record kernel sets both
            return
        type_name, _, action = (self.general_name() or "").rpartition(".")
        object.__setattr__(self, "type_name", self.type_name or type_name)
        object.__setattr__(self, "action", self.action or action or "created")

    @classmethod
    def general_name(cls) -> str | None:
        """The ``<type>.<action>`` this class is a case of, from its nearest ancestor that
        names one (itself included); None for the generic class."""
        for klass in cls.__mro__:
            name = vars(klass).get("name")
            if isinstance(name, str) and name.rpartition(".")[2] in RECORD_ACTIONS:
                return name
        return None

    def event_name(self) -> str:
        return self.name or f"{self.type_name}.{self.action}"

    def event_record_type(self) -> str | None:
        return self.type_name

    def payload(self) -> dict[str, Any]:
        return {
            "data": _jsonable({**self.data, **self.fields()}),
            "action": self.action,
            "type_name": self.type_name,
            "changes": _jsonable(self.changes),
        }


@functools.cache
def _own_fields(event_class: type[DomainEvent]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(event_class) if f.name not in event_class.envelope)


def names_of(name: str, payload: dict[str, Any]) -> tuple[str, ...]:
    """Every name a stored event answers to: its own, and for a record event stored under
    a more specific name, the ``<type>.<action>`` it is also a case of."""
    type_name, action = payload.get("type_name"), payload.get("action")
    general = f"{type_name}.{action}" if type_name and action in RECORD_ACTIONS else None
    return (name,) if general in (None, name) else (name, general)


_PLAIN = frozenset({str, int, float, bool, type(None)})


class JsonReady(dict):  # type: ignore[type-arg]
    """A dict ``jsonable`` made already: passing it through again costs nothing (a record's
    changes go into its history row and its event's payload)."""


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case, checked first: this runs on every write
        return value
    if type(value) is JsonReady:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [v if type(v) in _PLAIN else _jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def jsonable(value: Any) -> Any:
    """``value`` in JSON's types (str() for the rest); a dict comes back ``JsonReady``."""
    made = _jsonable(value)
    return JsonReady(made) if type(made) is dict else made
