"""Remembered route matches for the app's included routers.

FastAPI asks each included router in turn whether it serves a request, and each walks
its own routes' patterns to answer: about 0.2 ms of CPU per API call before its handler
ran (a tenth of a record create). Which router serves a request depends only on the
scope's type, method, root path and path, so each included router remembers its answers
for the paths it has seen (and so does each router included in one); the chosen router
still matches its own route in full (path parameters and all) when it handles the call."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match

# A request path holds record ids, so a router meets many different paths: the memory is
# bounded and simply starts again when full.
MAX_REMEMBERED = 4096

Matcher = Callable[[dict[str, Any]], tuple[Match, dict[str, Any]]]


def _remembering(matches: Matcher, *, nested: Callable[[], list[Any]] | None = None) -> Matcher:
    """``matches`` with a memory. ``nested``: the routers included in this one, given a
    memory of their own after its first answer (FastAPI builds them on first use; building
    them all at start cost half a second of every start)."""
    answers: dict[tuple[Any, ...], Match] = {}
    pending = [nested] if nested is not None else []

    def remembered(scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        key = (scope["type"], scope.get("method"), scope.get("root_path", ""), scope["path"])
        found = answers.get(key)
        if found is None:
            found, child_scope = matches(scope)
            if pending:
                _remember_in(pending.pop()())
            if child_scope:  # a match that carries state of its own is not remembered
                return found, child_scope
            if len(answers) >= MAX_REMEMBERED:
                answers.clear()
            answers[key] = found
        return found, {}

    return remembered


def remember_route_matches(app: FastAPI) -> None:
    """After every router is included: give each included router, and the routers
    included in it, a memory of its answers."""
    _remember_in(app.router.routes)


def _remember_in(routes: list[Any]) -> None:
    for route in routes:
        if type(route).__name__ == "_IncludedRouter" and "matches" not in vars(route):
            route.matches = _remembering(route.matches, nested=route.effective_candidates)
