"""The one round-robin. Members sit in a fixed order, each with a weight (its share of the
turns, e.g. a rep's capacity) and the turns it has had; the next turn goes to the member
furthest behind its share, then to the one whose last turn is longest ago, then to the
first in the order. With equal weights that is a plain rotation through the list.

Callers keep the state: lead routing keeps each member's turns and last turn, so a
member who joins starts level with the others (``starting_turns``) and one who leaves
simply drops out of the list; a workflow's assignment step keeps one counter of turns
taken, from which ``rotation`` gives the seats of a plain rotation."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

M = TypeVar("M")

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class Seat(Generic[M]):
    member: M
    weight: float = 1
    turns: int = 0
    last_turn: datetime | None = None

    def behind(self) -> tuple[float, datetime]:
        """Sort key: the share after one more turn, then the last turn (never: first)."""
        return (self.turns + 1) / self.weight, self.last_turn or _NEVER


def next_seat(seats: Sequence[Seat[M]]) -> Seat[M] | None:
    """The seat whose turn it is (the first of equals), or None for no seats. Weights
    must be positive."""
    return min(seats, key=Seat.behind, default=None)


def starting_turns(seated: Sequence[Seat[M]], weight: float) -> int:
    """The turns to credit a newcomer of ``weight`` so that it starts level with the
    member least served so far, rather than taking every turn until it catches up."""
    level = min((seat.turns / seat.weight for seat in seated), default=0.0)
    return int(level * weight)


def rotation(members: Sequence[M], turns_taken: int) -> list[Seat[M]]:
    """The seats of a plain rotation through ``members`` after ``turns_taken`` turns: every
    member has had the full laps, and the first ``turns_taken % len`` one turn more."""
    if not members:
        return []
    laps, extra = divmod(turns_taken, len(members))
    return [Seat(member, turns=laps + (index < extra)) for index, member in enumerate(members)]
