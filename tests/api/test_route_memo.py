"""Remembered route matches answer as the routers themselves do."""

from starlette.routing import Match

import pipewise.app
from pipewise.api import route_memo
from pipewise.app import create_app


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


PATHS = [
    ("POST", "/api/v1/contacts"), ("GET", "/api/v1/contacts"), ("DELETE", "/api/v1/contacts"),
    ("GET", "/api/v1/contacts/0190a5e4-0000-7000-8000-000000000001"), ("PATCH", "/api/v1/leads/not-an-id"),
    ("GET", "/api/v1/nothing-here"), ("GET", "/"), ("GET", "/deals"), ("POST", "/f/some-form"),
]


def test_each_included_router_answers_as_before_and_again_from_memory(monkeypatch):
    app = create_app(start_worker=False)
    assert sum("matches" in vars(route) for route in app.router.routes) > 10
    monkeypatch.setattr(pipewise.app, "remember_route_matches", lambda _app: None)
    fresh = create_app(start_worker=False)  # the reference: routers without memory
    assert not any("matches" in vars(route) for route in fresh.router.routes)
    for method, path in PATHS:
        expected = [r.matches(_scope(method, path))[0] for r in fresh.router.routes]
        for _ in range(2):
            assert [r.matches(_scope(method, path))[0] for r in app.router.routes] == expected, (method, path)
    assert Match.FULL in [r.matches(_scope("POST", "/api/v1/contacts"))[0] for r in app.router.routes]


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(route_memo, "MAX_REMEMBERED", 3)
    calls = []

    def matches(scope):
        calls.append(scope["path"])
        return Match.NONE, {}

    remembered = route_memo._remembering(matches)
    for n in range(10):
        remembered(_scope("GET", f"/api/v1/x/{n}"))
    remembered(_scope("GET", "/api/v1/x/9"))
    assert len(calls) == 10  # the last path was still remembered
    remembered(_scope("GET", "/api/v1/x/0"))
    assert len(calls) == 11  # an old one had been forgotten


def test_requests_through_the_app_still_reach_their_handlers(api):
    assert api.get("/api/v1/nothing-here").status_code == 404
    assert api.get("/api/v1/contacts").status_code == 401  # the contacts route, asking who calls
    assert api.put("/api/v1/contacts").status_code == 405
