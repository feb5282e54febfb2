from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LeadEvent(DomainEvent):
    record_type: ClassVar[str] = "lead"


@dataclass(frozen=True, kw_only=True)
class LeadConverted(LeadEvent):
    name: ClassVar[str] = "lead.converted"


@dataclass(frozen=True, kw_only=True)
class LeadLifecycleChanged(LeadEvent):
    """data: from, to, reason."""

    name: ClassVar[str] = "lead.lifecycle_changed"


@dataclass(frozen=True, kw_only=True)
class LeadScoreCrossed(LeadEvent):
    """data: score, threshold, direction (up | down)."""

    name: ClassVar[str] = "lead.score_crossed"


@dataclass(frozen=True, kw_only=True)
class LeadAssigned(LeadEvent):
    """data: owner_id, team_id, queue, rule, reason, submission_id."""

    name: ClassVar[str] = "lead.assigned"


@dataclass(frozen=True, kw_only=True)
class LeadSlaBreached(LeadEvent):
    """data: owner_id, due_at, manager_id, reassigned_to."""

    name: ClassVar[str] = "lead.sla_breached"


@dataclass(frozen=True, kw_only=True)
class LeadCaptured(LeadEvent):
    """data: form_id, submission_id, is_new."""

    name: ClassVar[str] = "lead.captured"


@dataclass(frozen=True, kw_only=True)
class RecordsMerged(DomainEvent):
    """data: record_type, merged_ids. ``record_id`` is the record that survives."""

    name: ClassVar[str] = "record.merged"

    def event_name(self) -> str:
        return f"{self.data.get('record_type', 'record')}.merged"

    def event_record_type(self) -> str | None:
        return self.data.get("record_type")


@dataclass(frozen=True, kw_only=True)
class LeadsImported(DomainEvent):
    """One batch of a CSV import landed. ``record_id`` is the import; data: lead_ids (hex),
    lines (the CSV line of each). The worker expands it into a ``lead.created`` per lead."""

    name: ClassVar[str] = "lead.imported"
    record_type: ClassVar[str] = "lead_import"
