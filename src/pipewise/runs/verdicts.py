"""What the engines say before and after a step: a ``Verdict`` on whether the run may take
its next step now, and the ``Outcome`` of a step that ran. Both carry words a rep can
read, which go to the decision log."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Verdict:
    """``go``: take the step now; ``hold``: try the step again at ``until``; ``pause``:
    stop until ``until`` (None: until a person resumes it); ``exit``: end the run.
    ``code`` names the reason for machines, ``reason`` for people."""

    action: Literal["go", "hold", "pause", "exit"]
    code: str
    reason: str
    until: datetime | None = None

    @property
    def clear(self) -> bool:
        return self.action == "go"


@dataclass
class Outcome:
    """What a step did (``skipped``: it chose to do nothing, e.g. in test mode)."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
