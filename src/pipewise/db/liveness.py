"""PostgreSQL: a pooled connection is checked before use only when it has sat idle.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: a round trip, and the
switches to and from autocommit around it, for every request. On a create over the API
that was about a third of the API process's time on PostgreSQL. A connection handed back
to the pool moments ago (the usual case under load) is as alive as a ping would show, so,
as connection pools commonly do, the check is skipped for a connection used within the
last ``IDLE_SECONDS``; one idle for longer is pinged, and a dead one is replaced before the
request sees it (``DisconnectionError``: the pool opens another connection and retries).
A server that goes away within the window fails the request that meets it first; the pool
then drops that connection and, as after any disconnect, the ones opened before it."""

import time
from typing import Any

from sqlalchemy import Engine, event, exc

IDLE_SECONDS = 1.0
_RETURNED_AT = "pipewise.returned_at"


def ping_idle_connections(engine: Engine) -> None:
    """Install the idle check on ``engine``'s pool (made without ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkin")
    def note_return(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at <= IDLE_SECONDS:
            return  # new, or just used
        try:
            ping(engine, dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"an idle pooled connection was found closed: {error}") from error


def ping(engine: Engine, dbapi_connection: Any) -> None:
    """``SELECT 1`` through the dialect's own ping (it raises when the connection is dead)."""
    engine.dialect.do_ping(dbapi_connection)
