from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class DealStageChanged(DomainEvent):
    name: ClassVar[str] = "deal.stage_changed"
    record_type: ClassVar[str] = "deal"
