"""What leads announce: typed fields, stored as the payload's ``data`` (events/base.py)."""

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from pipewise.events.base import DomainEvent, RecordEvent


@dataclass(frozen=True, kw_only=True)
class LeadEvent(DomainEvent):
    record_type: ClassVar[str] = "lead"


@dataclass(frozen=True, kw_only=True)
class LeadCreated(RecordEvent):
    name: ClassVar[str] = "lead.created"


@dataclass(frozen=True, kw_only=True)
class LeadUpdated(RecordEvent):
    name: ClassVar[str] = "lead.updated"


@dataclass(frozen=True, kw_only=True)
class LeadConverted(LeadEvent):
    name: ClassVar[str] = "lead.converted"

    account_id: uuid.UUID
    contact_id: uuid.UUID
    deal_id: uuid.UUID | None


@dataclass(frozen=True, kw_only=True)
class LeadLifecycleChanged(LeadEvent):
    """``reason`` is the disqualification reason; ``cause`` says what moved the lead. The
    payload names the old stage ``from`` (a Python keyword, hence ``from_stage`` here)."""

    name: ClassVar[str] = "lead.lifecycle_changed"

    from_stage: str | None
    to: str
    reason: str | None
    cause: str

    def fields(self) -> dict[str, Any]:
        own = super().fields()
        return {"from": own.pop("from_stage"), **own}


@dataclass(frozen=True, kw_only=True)
class LeadCaptured(LeadEvent):
    name: ClassVar[str] = "lead.captured"

    is_new: bool
    form_id: uuid.UUID | None
    submission_id: uuid.UUID | None


@dataclass(frozen=True, kw_only=True)
class RecordsMerged(DomainEvent):
    """``record_id`` is the record that survives; ``moved`` counts the rows moved onto it
    per table column. The event is ``<type>.merged`` (``merged_type`` in the payload is
    ``record_type``, a name every event already uses for its class)."""

    name: ClassVar[str] = "record.merged"

    merged_type: str
    merged_ids: list[uuid.UUID]
    moved: dict[str, int]

    def event_name(self) -> str:
        return f"{self.merged_type}.merged"

    def event_record_type(self) -> str | None:
        return self.merged_type

    def fields(self) -> dict[str, Any]:
        own = super().fields()
        return {"record_type": own.pop("merged_type"), **own}


@dataclass(frozen=True, kw_only=True)
class LeadsImported(DomainEvent):
    """One batch of a CSV import landed. ``record_id`` is the import; ``lead_ids`` (hex)
    and the CSV ``lines`` they came from. The worker expands it into a ``lead.created``
    per lead."""

    name: ClassVar[str] = "lead.imported"
    record_type: ClassVar[str] = "lead_import"

    lead_ids: list[str]
    lines: list[int]
