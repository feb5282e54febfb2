"""What every API request needs: a session, the caller, the raw body — and one trip to a
worker thread for all of its database work.

A plain-``def`` endpoint would otherwise make FastAPI hand work to its thread pool four
times per request: to open the session, to resolve the token, to run the handler, and to
commit. Each hand-off wakes a thread and then the event loop, and under load they were
about a sixth of a create request's CPU time. On an ``api_router`` (route class
``ApiRoute``) the session and the caller are only *prepared* on the event loop, with no
I/O; the handler's thread then begins the transaction (the write lock on SQLite), resolves
the token in one query, runs the handler and commits, in that order. On SQLite that thread
is, for every write request, the same one (see ``_SQLITE_WRITER``), and a handler marked
``one_record_write`` runs on the event loop instead, at once when the write turn is free
or, when another writer has it, as soon as it comes (``_TurnQueue``); on PostgreSQL such a
handler runs on a few threads of its own (see there)."""

import asyncio
import contextlib
import contextvars
import functools
import inspect
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.db.session import begin_write, get_sessionmaker, take_write_turn_now, wait_for_write_turn
from pipewise.db.writer_turn import WriterTurn
from pipewise.errors import PipewiseError
from pipewise.people.service import token_service
from pipewise.records.service import note_active_user

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = "pipewise.request_writes"


class Unauthorized(PipewiseError):
    status = 401
    title = "Unauthorized"


async def request_session(request: Request) -> Session:
    """The request's session, not yet begun: its thread begins it (see ``ApiRoute``)."""
    session = get_sessionmaker()()
    session.info[_WRITES] = request.method not in READ_METHODS
    # Closed when the handler's response is made, as FastAPI closes a dependency with yield
    # of scope "function". No I/O: the handler's thread has committed or rolled back (only a
    # route that is not an ``ApiRoute`` could leave a transaction open, and tests/architecture
    # forbids it). Not a generator: FastAPI's exit stack and cancel scope for one cost about
    # a twentieth of a create request.
    request.scope["fastapi_function_astack"].callback(session.close)
    return session


DbSession = Annotated[Session, Depends(request_session, scope="function")]


@dataclass(frozen=True)
class PendingActor:
    """A bearer token read from the header, resolved to an ``Actor`` in the handler's thread."""

    secret: str


def _bearer_secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    return secret.strip()


async def bearer_token(request: Request) -> PendingActor:
    return PendingActor(_bearer_secret(request))


CurrentActor = Annotated[Actor, Depends(bearer_token)]


def resolve_actor(session: Session, secret: str) -> Actor:
    actor = token_service.actor_for(session, secret)
    if actor is None:
        raise Unauthorized("the API token is unknown, revoked, or its user is inactive")
    note_active_user(session, actor.id)
    return actor


def current_actor(request: Request, session: Session) -> Actor:
    """The caller, resolved at once (for a dependency that runs before the handler)."""
    return resolve_actor(session, _bearer_secret(request))


def _in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(**values: Any) -> Any:
        session = next((v for v in values.values() if isinstance(v, Session) and _WRITES in v.info), None)
        if session is None:
            return endpoint(**values)
        try:
            if session.info[_WRITES]:
                begin_write(session)
            for name, value in values.items():
                if isinstance(value, PendingActor):
                    values[name] = resolve_actor(session, value.secret)
            result = endpoint(**values)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result

    one_record = getattr(endpoint, _ONE_RECORD, False)

    @functools.wraps(endpoint)
    async def dispatch(**values: Any) -> Any:
        session = next((v for v in values.values() if isinstance(v, Session) and _WRITES in v.info), None)
        if session is not None and session.info[_WRITES] and _single_writer(session):
            if one_record:
                waiting = _turn_queue()
                if waiting.empty() and _WRITER_QUEUE.empty() and take_write_turn_now(session):
                    return run(**values)
                result = await waiting.run(session, run, values)
                if result is not _TURN_NOT_HAD:
                    return result
            with _WRITER_QUEUE.joined():
                return await _on(_SQLITE_WRITER, run, values)
        if one_record and session is not None:
            return await _on(_RECORD_WRITERS, run, values)
        return await run_in_threadpool(run, **values)

    return dispatch


# SQLite takes one writer at a time, and a write request holds the process's write lock
# from its first statement to its commit; so its write requests run on one thread of their
# own, taking turns in that thread's queue instead of waking each other on the lock.
_SQLITE_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipewise-sqlite-writer")
# On PostgreSQL the one-record writes run on a few threads of their own, not on anyio's
# forty: with a thread for each busy connection, eight requests' threads and the event loop
# took the GIL from one another at every round trip. Four still overlap one request's round
# trips with another's Python work; a longer request keeps to anyio's pool.
_RECORD_WRITERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pipewise-record-writes")
_ONE_RECORD = "pipewise_one_record_write"


async def _on(executor: ThreadPoolExecutor, run: Callable[..., Any], values: dict[str, Any]) -> Any:
    call = functools.partial(contextvars.copy_context().run, run, **values)
    return await asyncio.get_running_loop().run_in_executor(executor, call)


class _Queue:
    """How many write requests are on their way through ``_SQLITE_WRITER``."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def empty(self) -> bool:
        return self._count == 0

    @contextlib.contextmanager
    def joined(self) -> Iterator[None]:
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1


_WRITER_QUEUE = _Queue()

_TURN_NOT_HAD = object()
# The most waiting writes the loop runs in one go (about a millisecond each): past it, the
# turn goes back and is asked for again, so that reads and other writers get their moment.
DRAIN_AT_MOST = 32


@dataclass
class _Waiting:
    future: "asyncio.Future[Any]"
    session: Session
    run: Callable[..., Any]
    values: dict[str, Any]
    context: contextvars.Context


class _TurnQueue:
    """The one-record writes of an event loop that found SQLite's write turn taken. They
    wait here while one thread waits for the turn; when it comes, the loop runs them back to
    back, each handing the turn to the next, and lets it go after the last. On the writer
    thread the same write held the turn about twice as long (1.6 against 0.8 ms in a routed
    run): the loop read and answered other requests meanwhile, on the same interpreter lock,
    while a worker process waited for the turn. Now the loop does that work while the
    worker has the turn. If the turn does not come within the write lock's timeout, the
    writes go to the writer thread, as other writes do."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._waiting: deque[_Waiting] = deque()
        self._asking = False

    def empty(self) -> bool:
        return not self._waiting

    async def run(self, session: Session, run: Callable[..., Any], values: dict[str, Any]) -> Any:
        future = self.loop.create_future()
        self._waiting.append(_Waiting(future, session, run, values, contextvars.copy_context()))
        if not self._asking:
            self._ask()
        return await future

    def _ask(self) -> None:
        self._asking = True
        session = self._waiting[0].session

        def wait() -> None:
            try:
                turn = wait_for_write_turn(session)
            except Exception:  # noqa: BLE001 - the writes then wait on the writer thread
                turn = None
            try:
                if not self.loop.is_running():
                    raise RuntimeError("the loop has stopped")
                self.loop.call_soon_threadsafe(self._drain, turn)
            except RuntimeError:  # the server is stopping: nobody will run these writes
                if turn is not None:
                    turn.release()

        _TURN_WAITER.submit(wait)

    def _drain(self, turn: WriterTurn | None) -> None:
        self._asking = False
        if turn is None:  # not had in time: the writes wait for it on the writer thread
            while self._waiting:
                waiting = self._waiting.popleft()
                if not waiting.future.done():
                    waiting.future.set_result(_TURN_NOT_HAD)
            return
        held: WriterTurn | None = turn
        ran = 0
        while self._waiting and ran < DRAIN_AT_MOST:
            waiting = self._waiting[0]
            if waiting.future.done():  # its request was cancelled while it waited
                self._waiting.popleft()
                continue
            # The first write is handed the turn; each lets it go at its end, and the next
            # takes it again unless another writer has meanwhile.
            if not take_write_turn_now(waiting.session, held=held):
                break
            held, ran = None, ran + 1
            self._waiting.popleft()
            try:
                waiting.future.set_result(waiting.context.run(waiting.run, **waiting.values))
            except Exception as error:  # noqa: BLE001 - the request's own error, raised where it waits
                waiting.future.set_exception(error)
        if held is not None:
            held.release()
        if self._waiting:
            self._ask()


_TURN_WAITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipewise-write-turn")
_turn_queues: dict[asyncio.AbstractEventLoop, _TurnQueue] = {}


def _turn_queue() -> _TurnQueue:
    loop = asyncio.get_running_loop()
    found = _turn_queues.get(loop)
    if found is None:
        for stale in [other for other in _turn_queues if other.is_closed()]:
            del _turn_queues[stale]
        found = _turn_queues[loop] = _TurnQueue(loop)
    return found


def one_record_write(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a write handler whose work is one record's, about a millisecond (a create, a
    change). On SQLite, when the write turn is free this moment and no write request waits,
    the handler runs right on the event loop: the trip to the writer thread and back, and
    the two threads taking the GIL from each other while the loop reads the next requests,
    cost a single-record create a fifth to a third of its time. The loop never waits for
    the turn: while another process's writer holds it, the request waits in ``_TurnQueue``
    and runs on the loop when the turn comes. A longer handler must not be marked: nothing
    else on the loop runs while it does. On PostgreSQL, where the loop would wait out every
    round trip, it runs on ``_RECORD_WRITERS``."""
    setattr(endpoint, _ONE_RECORD, True)
    return endpoint


def _single_writer(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


class ApiRoute(APIRoute):
    """Route class of the API: a plain-``def`` handler's session, caller, work and commit
    run in one worker thread (see the module's docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_one_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)


def api_router(**kwargs: Any) -> APIRouter:
    """The router for an API module (``ApiRoute`` built in)."""
    return APIRouter(route_class=ApiRoute, **kwargs)


async def request_body(request: Request) -> bytes:
    """The raw body, read on the event loop (it arrives asynchronously), so the handler that
    takes it is a plain ``def`` and its database work runs in FastAPI's thread pool."""
    return await request.body()


RawBody = Annotated[bytes, Depends(request_body)]
