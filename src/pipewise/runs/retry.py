"""When a failed step is tried again: exponential backoff from a first delay up to a cap,
and a limit on the attempts after which the run gives up (dead-letters)."""

from dataclasses import dataclass
from datetime import timedelta

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class RetryPolicy:
    first: timedelta  # the wait after the first failure; each later one doubles it
    cap: timedelta  # no wait is longer than this
    limit: int  # attempts in all, the first one included

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt ``attempt`` (1, 2, …): ``first``, twice that, …,
        at most ``cap``. Whole microseconds, so a large attempt number cannot overflow."""
        doubled = (self.first // _MICROSECOND) * 2 ** max(attempt - 1, 0)
        return min(doubled, self.cap // _MICROSECOND) * _MICROSECOND

    def gives_up(self, attempt: int) -> bool:
        """Whether ``attempt`` failed attempts use up the limit."""
        return attempt >= self.limit
