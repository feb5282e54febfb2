"""What routing announces. The names stay ``lead.*``: workflows and webhooks know them so."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class _LeadRoutingEvent(DomainEvent):
    record_type: ClassVar[str] = "lead"

    def fields(self) -> dict[str, Any]:
        # Moments travel as ISO 8601 text, which is what subscribers parse.
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in super().fields().items()}


@dataclass(frozen=True, kw_only=True)
class LeadAssigned(_LeadRoutingEvent):
    """A lead got an owner or a queue; ``submission_id`` is the form post that brought it."""

    name: ClassVar[str] = "lead.assigned"

    owner_id: uuid.UUID | None
    queue: str | None
    rule: str
    rule_id: uuid.UUID | None
    reason: str
    sla_due_at: datetime | None
    submission_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class LeadSlaBreached(_LeadRoutingEvent):
    """Nobody touched an assigned lead within the response time."""

    name: ClassVar[str] = "lead.sla_breached"

    owner_id: uuid.UUID | None
    due_at: datetime | None
    manager_id: uuid.UUID | None
    reassigned_to: uuid.UUID | None
