from urllib.parse import unquote

import pytest

from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.web.common import SESSION_COOKIE, safe_next


class TestLogin:
    def test_good_password_logs_in_and_follows_next(self, web, factory, session):
        user = factory.user(name="Rita Rep")
        session.commit()
        token = web.csrf("/login?next=/contacts")
        r = web.client.post(
            "/login",
            data={"email": user.email.upper(), "password": "correct-horse", "next": "/contacts", "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/contacts"
        home = web.get("/")
        assert home.status_code == 200
        assert "Rita Rep" in home.text

    def test_bad_password_is_refused_with_a_message(self, web, factory, session):
        user = factory.user()
        session.commit()
        r = web.login(user, password="wrong-password")
        assert r.status_code == 401
        assert "do not match" in r.text
        assert user.email in r.text  # the e-mail stays typed in
        assert web.get("/", follow_redirects=False).status_code == 303

    def test_inactive_user_cannot_log_in(self, web, factory, session):
        user = factory.user(is_active=False)
        session.commit()
        assert web.login(user).status_code == 401

    def test_session_cookie_is_httponly_and_samesite_lax(self, web, factory, session):
        user = factory.user()
        session.commit()
        r = web.login(user)
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(SESSION_COOKIE + "=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie

    def test_cookie_is_secure_when_configured(self, web, factory, session, monkeypatch):
        monkeypatch.setattr(get_settings(), "secure_cookies", True)
        r = web.client.get("/login")
        assert "Secure" in r.headers["set-cookie"]

    def test_a_forged_cookie_is_ignored(self, web, factory, session):
        factory.user()
        session.commit()
        web.client.cookies.set(SESSION_COOKIE, "eyJ1aWQiOiAiMSJ9.forged.signature")
        assert web.get("/", follow_redirects=False).status_code == 303


class TestLoggedOut:
    def test_a_page_redirects_to_login_with_next(self, web):
        r = web.get("/contacts?q=ada", follow_redirects=False)
        assert r.status_code == 303
        location = r.headers["location"]
        assert location.startswith("/login?next=")
        assert unquote(location.split("next=", 1)[1]) == "/contacts?q=ada"

    def test_htmx_requests_get_a_client_redirect(self, web):
        r = web.get("/contacts", headers={"HX-Request": "true"}, follow_redirects=False)
        assert r.status_code == 204
        assert r.headers["HX-Redirect"].startswith("/login")

    @pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""])
    def test_open_redirects_are_refused(self, web, factory, session, target):
        user = factory.user()
        session.commit()
        token = web.csrf("/login")
        r = web.client.post(
            "/login",
            data={"email": user.email, "password": "correct-horse", "next": target, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"

    def test_safe_next_keeps_local_paths(self):
        assert safe_next("/deals?stage_id=1#top") == "/deals?stage_id=1#top"
        assert safe_next("deals") == "/"


class TestCsrf:
    def test_post_without_token_is_rejected_and_writes_nothing(self, web, factory, session):
        user = factory.user()
        session.commit()
        web.login(user)
        r = web.client.post("/contacts", data={"last_name": "Nobody"})
        assert r.status_code == 403
        assert "expired" in r.text
        assert session.query(Contact).count() == 0

    def test_post_with_a_wrong_token_is_rejected(self, web, factory, session):
        user = factory.user()
        session.commit()
        web.login(user)
        r = web.client.post("/contacts", data={"last_name": "Nobody", "csrf_token": "not-the-token"})
        assert r.status_code == 403

    def test_login_itself_needs_the_token(self, web, factory, session):
        user = factory.user()
        session.commit()
        r = web.client.post("/login", data={"email": user.email, "password": "correct-horse"}, follow_redirects=False)
        assert r.status_code == 403

    def test_htmx_header_token_is_accepted(self, web, factory, session):
        user = factory.user()
        session.commit()
        web.login(user)
        r = web.post("/contacts", {"last_name": "Header", "lifecycle_stage": "lead", "consent_state": "unknown"}, htmx=True, follow_redirects=False)
        assert r.status_code == 303
        assert session.query(Contact).filter_by(last_name="Header").count() == 1

    def test_the_token_changes_on_login(self, web, factory, session):
        user = factory.user()
        session.commit()
        before = web.csrf("/login")
        web.login(user)
        assert web.csrf("/") != before


class TestLogout:
    def test_logout_ends_the_session(self, web, factory, session):
        user = factory.user()
        session.commit()
        web.login(user)
        r = web.post("/logout", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/login"
        assert web.get("/", follow_redirects=False).status_code == 303

    def test_logout_needs_the_token(self, web, factory, session):
        user = factory.user()
        session.commit()
        web.login(user)
        assert web.client.post("/logout").status_code == 403
        assert web.get("/", follow_redirects=False).status_code == 200
