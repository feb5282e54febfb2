"""The deal events subscribers take. The record kernel writes ``deal.created``,
``deal.updated`` and ``deal.deleted``; a move to another stage is one update recorded
once, as ``deal.stage_changed``, which still reaches the subscribers of ``deal.updated``."""

import uuid
from dataclasses import dataclass
from typing import ClassVar

from pipewise.events.base import RecordEvent


@dataclass(frozen=True, kw_only=True)
class DealCreated(RecordEvent):
    name: ClassVar[str] = "deal.created"


@dataclass(frozen=True, kw_only=True)
class DealUpdated(RecordEvent):
    name: ClassVar[str] = "deal.updated"


@dataclass(frozen=True, kw_only=True)
class DealDeleted(RecordEvent):
    name: ClassVar[str] = "deal.deleted"


@dataclass(frozen=True, kw_only=True)
class DealStageChanged(DealUpdated):
    """The deal entered another stage; ``changes`` has every field the same update changed."""

    name: ClassVar[str] = "deal.stage_changed"

    to_stage_id: uuid.UUID
    from_stage_id: uuid.UUID | None = None
    to_stage: str | None = None
    kind: str | None = None  # the stage's kind: open | won | lost
    account_id: uuid.UUID | None = None
