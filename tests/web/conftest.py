"""A logged-in browser over TestClient: it keeps the session cookie and sends the
page's CSRF token the way the real forms and HTMX do."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipewise.auth.models import User

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def csrf(self, page: str = "/login") -> str:
        match = CSRF_RE.search(self.client.get(page).text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def login(self, user: User, password: str = "correct-horse") -> Any:
        token = self.csrf("/login")
        return self.client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": token}, follow_redirects=False
        )

    def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False, **kw: Any) -> Any:
        """Post like the page would: the token in the form, or in the header for HTMX."""
        token = self.csrf("/")
        headers = kw.pop("headers", {})
        body = dict(data or {})
        if htmx:
            headers = {"HX-Request": "true", "X-CSRF-Token": token, **headers}
        else:
            body["csrf_token"] = token
        return self.client.post(url, data=body, headers=headers, **kw)


@pytest.fixture
def web(api: TestClient) -> WebClient:
    return WebClient(api)
