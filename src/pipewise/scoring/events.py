"""What scoring announces. The names stay ``lead.*``: workflows and webhooks know them so."""

from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LeadScoreCrossed(DomainEvent):
    """A lead's score went over (``up``) or back under (``down``) the MQL threshold."""

    name: ClassVar[str] = "lead.score_crossed"
    record_type: ClassVar[str] = "lead"

    score: int
    threshold: int
    direction: str
