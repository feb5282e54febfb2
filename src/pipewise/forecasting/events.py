"""The facts forecasting records: a category call on a deal, and a quota set."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from pipewise.events.base import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ForecastCategoryOverridden(DomainEvent):
    """A rep or a manager put a deal in another forecast category, saying why."""

    name: ClassVar[str] = "forecast.category_overridden"
    record_type: ClassVar[str | None] = "deal"

    level: str  # rep | manager
    category: str
    previous: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class QuotaSet(DomainEvent):
    name: ClassVar[str] = "forecast.quota_set"

    period: str
    scope: str
    amount: Decimal
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
