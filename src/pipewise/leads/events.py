from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LeadConverted(DomainEvent):
    name: ClassVar[str] = "lead.converted"
    record_type: ClassVar[str] = "lead"
