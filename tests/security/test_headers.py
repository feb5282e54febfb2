"""Browser security headers on every page, API answer, static file and error; and no
page carries inline script (the policy would block it)."""

import re

import pytest

from pipewise.web.headers import CONTENT_SECURITY_POLICY
from tests.security.pages import build_site
from tests.web.conftest import WebClient

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def assert_protected(response, *, policy: str = CONTENT_SECURITY_POLICY) -> None:  # type: ignore[no-untyped-def]
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    csp = response.headers.get("content-security-policy", "")
    assert csp == policy, where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "strict-origin-when-cross-origin", where


def test_the_policy_forbids_inline_script_and_framing():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_every_page_has_the_headers_and_no_inline_script(api, factory, session):  # type: ignore[no-untyped-def]
    site = build_site(factory, session)
    web = WebClient(api)
    assert web.login(site.admin).status_code == 303
    for page in site.pages:
        response = web.get(page, follow_redirects=False)
        assert response.status_code == 200, page
        assert_protected(response)
        assert not INLINE_SCRIPT.search(response.text), page
        handler = INLINE_HANDLER.search(response.text)
        assert handler is None, f"{page}: inline handler {handler.group(0) if handler else ''}"


@pytest.mark.parametrize(
    "path",
    ["/login", "/static/css/app.css", "/static/js/app.js", "/api/openapi.json", "/api/v1/contacts", "/no-such-page",
     "/contacts"],
)
def test_everything_else_has_them_too(api, path):  # type: ignore[no-untyped-def]
    assert_protected(api.get(path, follow_redirects=False))


def test_form_posts_and_errors_have_them(api, factory, session):  # type: ignore[no-untyped-def]
    user = factory.user()
    session.commit()
    web = WebClient(api)
    assert_protected(web.login(user, password="wrong-password"))
    assert_protected(api.post("/logout", follow_redirects=False))  # refused: no CSRF token
    assert_protected(api.post("/f/no-such-form", json={}))


def test_the_api_docs_page_loads_everything_from_the_site(api):  # type: ignore[no-untyped-def]
    response = api.get("/api/docs")
    assert response.status_code == 200
    assert_protected(response)
    assert not INLINE_SCRIPT.search(response.text)
    assert "://" not in response.text  # no other site: the docs work offline
    assert api.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
