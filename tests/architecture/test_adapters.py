"""Adapters of one shape: the API and the web pages are thin over the domains.

- ``web/`` mirrors ``web/templates/``: each template folder is one page package.
- No database work on the event loop: an endpoint that does any is a plain ``def``, which
  FastAPI runs in its thread pool. The only ``async def`` endpoints and dependencies are the
  listed ones, and an async dependency only reads the request body.
- One hop: no adapter hands work to the thread pool itself (``run_in_threadpool``); an API
  handler's session is begun, used and committed in its one thread (``ApiRoute``).
- No model queries in adapters: they call a domain's service or ``queries`` module."""

import ast
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from pipewise.api.deps import ApiRoute, request_session
from pipewise.app import create_app

SRC = Path(__file__).resolve().parents[2] / "src" / "pipewise"
ADAPTERS = ("api", "web")

# Async endpoints, each with why it does no database work.
ASYNC_ENDPOINTS = {
    "fastapi.applications:FastAPI.setup.<locals>.openapi": "FastAPI's own: the OpenAPI document, built in memory",
}
# Async dependencies: they do no I/O but read the request (its body arrives asynchronously)
# and hand it to a plain ``def`` handler.
ASYNC_DEPENDENCIES = {
    "pipewise.api.deps:request_session": "the API request's session object, begun by the handler's thread",
    "pipewise.api.deps:bearer_token": "the API token read from the header, resolved in the handler's thread",
    "pipewise.web.common:posted_form": "a web form post",
    "pipewise.api.deps:request_body": "a raw body (a mail gateway's message, a workflow file)",
    "pipewise.api.v1.leads_forms:posted_fields": "a hosted form's post, form-encoded or JSON",
}
# Adapter modules that may query tables themselves, each with why.
QUERYING_ADAPTERS = {
    "api/idempotency.py": "the API's own table of idempotency keys, not a domain's",
}
SESSION_QUERIES = frozenset({"get", "scalar", "scalars", "execute", "query"})


def _name(call: Callable[..., Any]) -> str:
    return f"{call.__module__}:{call.__qualname__}"


def _routes(items: Any) -> Iterator[Any]:
    for route in items:
        if hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)
        elif hasattr(route, "endpoint"):
            yield route


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


@pytest.fixture(scope="module")
def routes() -> list[Any]:
    return list(_routes(create_app(start_worker=False).routes))


def test_only_the_listed_endpoints_are_async(routes: list[Any]) -> None:
    # as written: an ApiRoute hands a plain-def handler to its thread through an async wrapper
    async_endpoints = {_name(r.endpoint) for r in routes if inspect.iscoroutinefunction(inspect.unwrap(r.endpoint))}
    assert async_endpoints == set(ASYNC_ENDPOINTS), "a handler that touches the database must be a plain def"


def test_async_dependencies_only_read_the_body(routes: list[Any]) -> None:
    found: set[str] = set()
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        for dependency in _dependencies(route.dependant):
            call = dependency.call
            if call is not None and (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
                found.add(_name(dependency.call))
                assert not dependency.dependencies, f"{_name(dependency.call)} must depend on nothing (no session)"
    assert found == set(ASYNC_DEPENDENCIES)


def test_api_sessions_are_begun_and_committed_in_the_handlers_thread(routes: list[Any]) -> None:
    """A route taking the API's session must be an ``ApiRoute``: its handler's thread begins,
    commits or rolls back the session; elsewhere nobody would."""
    for route in routes:
        if isinstance(route, APIRoute) and any(d.call is request_session for d in _dependencies(route.dependant)):
            assert isinstance(route, ApiRoute), f"{route.path}: build its router with api_router()"
            direct = [d for d in route.dependant.dependencies if d.call is not request_session]
            takers = [d for d in direct for sub in _dependencies(d) if sub.call is request_session]
            assert not takers, f"{route.path}: only the handler may take the API session, not a dependency"


def test_web_packages_mirror_the_template_folders() -> None:
    web = SRC / "web"
    packages = {p.parent.name for p in web.glob("*/__init__.py")}
    folders = {p.name for p in (web / "templates").iterdir() if p.is_dir()}
    assert packages == folders


def _adapter_files() -> Iterator[tuple[str, ast.Module]]:
    for package in ADAPTERS:
        for path in sorted((SRC / package).rglob("*.py")):
            yield str(path.relative_to(SRC)), ast.parse(path.read_text(), str(path))


def test_no_adapter_hands_work_to_the_thread_pool_itself() -> None:
    offenders = [
        name for name, tree in _adapter_files() for node in ast.walk(tree)
        if isinstance(node, ast.Name | ast.alias) and getattr(node, "id", getattr(node, "name", "")) == "run_in_threadpool"
        and name != "api/deps.py"  # the API's route class: the one place that picks a handler's thread
    ]
    assert offenders == [], "declare the handler with def; FastAPI runs it in its pool"


def test_adapters_query_no_models() -> None:
    offenders = set()
    for name, tree in _adapter_files():
        if name in QUERYING_ADAPTERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy" and any(
                alias.name in ("select", "update", "delete", "func") for alias in node.names
            ):
                offenders.add(f"{name}: imports sqlalchemy's query builders")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_QUERIES
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "session"):
                offenders.add(f"{name}:{node.lineno}: session.{node.func.attr}(...)")
    assert sorted(offenders) == [], "move the query into the domain's service or queries module"
