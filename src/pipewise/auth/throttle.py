"""Log-in throttling, per account and per client address, kept in the database so every
process sees the same counts. After a number of free failures each further attempt must
wait, twice as long after every failure, up to a limit; a successful log-in clears the
account's count. An idle count is forgotten after a day."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipewise.auth.models import LoginThrottle
from pipewise.config import get_settings
from pipewise.db.base import utcnow

FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Blocked:
    retry_after: int  # seconds

    @property
    def message(self) -> str:
        return f"Too many failed log-ins. Try again in {self.retry_after} seconds."


def _keys(email: str, address: str | None) -> list[tuple[str, str, int]]:
    settings = get_settings()
    keys = [("account", email.strip().lower()[:254], settings.login_free_attempts)]
    if address:
        keys.append(("address", address[:254], settings.login_free_attempts_per_address))
    return keys


def blocked(session: Session, *, email: str, address: str | None, now: datetime | None = None) -> Blocked | None:
    """Whether a log-in for ``email`` from ``address`` must wait, and how long."""
    now = now or utcnow()
    waits = []
    for scope, key, _free in _keys(email, address):
        row = session.get(LoginThrottle, (scope, key))
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            waits.append(math.ceil((row.blocked_until - now).total_seconds()))
    return Blocked(max(waits)) if waits else None


def failed(session: Session, *, email: str, address: str | None, now: datetime | None = None) -> None:
    """Count a failed log-in against the account and the address."""
    settings = get_settings()
    now = now or utcnow()
    for scope, key, free in _keys(email, address):
        row = _locked_row(session, scope, key, now)
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - free
        if over >= 0:
            delay = min(settings.login_first_delay_seconds * 2**min(over, 30), settings.login_max_delay_seconds)
            row.blocked_until = now + timedelta(seconds=delay)
    session.flush()


def succeeded(session: Session, *, email: str) -> None:
    row = session.get(LoginThrottle, ("account", email.strip().lower()[:254]), with_for_update=True)
    if row is not None:
        session.delete(row)
        session.flush()


def _locked_row(session: Session, scope: str, key: str, now: datetime) -> LoginThrottle:
    row = session.get(LoginThrottle, (scope, key), with_for_update=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = LoginThrottle(scope=scope, key=key, failures=0, last_failure_at=now)
            session.add(row)
        return row
    except IntegrityError:  # another process counted the first failure at the same moment
        return session.get(LoginThrottle, (scope, key), with_for_update=True, populate_existing=True)  # type: ignore[return-value]
