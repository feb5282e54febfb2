from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.db.session import session_scope
from pipewise.errors import PipewiseError
from pipewise.people.service import token_service
from pipewise.records.service import note_active_user

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthorized(PipewiseError):
    status = 401
    title = "Unauthorized"


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the request boundary commits (before the response is sent)."""
    with session_scope(write=request.method not in READ_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def current_actor(request: Request, session: DbSession) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    user = token_service.resolve(session, secret.strip())
    if user is None:
        raise Unauthorized("the API token is unknown, revoked, or its user is inactive")
    note_active_user(session, user.id)
    return Actor.for_user(session, user)


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def request_body(request: Request) -> bytes:
    """The raw body, read on the event loop (it arrives asynchronously), so the handler that
    takes it is a plain ``def`` and its database work runs in FastAPI's thread pool."""
    return await request.body()


RawBody = Annotated[bytes, Depends(request_body)]
