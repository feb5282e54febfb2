"""Sessions and log-in throttling: log-out and a new password end every session of the
user (API tokens stay); failed log-ins are throttled per account and per client address
with growing waits and a 429 that says how long, kept in the database; the client
address believes X-Forwarded-For only from trusted proxies, for log-ins and form posts."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pipewise.app import create_app
from pipewise.auth.models import LoginThrottle, User
from pipewise.config import get_settings
from pipewise.db.base import utcnow
from pipewise.leads.models import FormSubmission
from tests.conftest import shared_app
from tests.leads.test_capture import make_form
from tests.web.conftest import WebClient

PEER = "203.0.113.7"  # the direct peer every test client connects from
PROXY = "10.0.0.5"


@pytest.fixture
def browser(database) -> Iterator[WebClient]:  # type: ignore[no-untyped-def]
    """Another browser (its own cookies) on the same server."""
    with TestClient(shared_app(), client=(PEER, 50000)) as client:
        yield WebClient(client)


def second_browser() -> WebClient:
    return WebClient(TestClient(shared_app(), client=(PEER, 50001)))


def logged_in(web: WebClient, user: User) -> WebClient:
    assert web.login(user).status_code == 303
    assert web.get("/", follow_redirects=False).status_code == 200
    return web


def is_logged_in(web: WebClient) -> bool:
    return web.get("/", follow_redirects=False).status_code == 200


class TestLogOut:
    def test_ends_every_session_of_the_user_but_not_their_api_tokens(self, browser, api, factory, session):  # type: ignore[no-untyped-def]
        user = factory.user()
        other = factory.user()
        session.commit()
        headers = factory.headers(user)
        laptop, phone, colleague = logged_in(browser, user), logged_in(second_browser(), user), second_browser()
        logged_in(colleague, other)
        old_phone_cookie = dict(phone.client.cookies)

        assert laptop.post("/logout", follow_redirects=False).status_code == 303

        assert not is_logged_in(laptop)
        assert not is_logged_in(phone)
        replay = second_browser()
        replay.client.cookies.update(old_phone_cookie)
        assert not is_logged_in(replay)
        assert is_logged_in(colleague)
        assert api.get("/api/v1/me", headers=headers).status_code == 200


class TestPasswordChange:
    def change(self, web: WebClient, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
        form = {"current_password": current, "new_password": new, "new_password_again": again or new}
        return web.post("/account/password", form, follow_redirects=False)

    def test_ends_the_other_sessions_and_keeps_this_one(self, browser, api, factory, session):  # type: ignore[no-untyped-def]
        user = factory.user()
        session.commit()
        headers = factory.headers(user)
        here, elsewhere = logged_in(browser, user), logged_in(second_browser(), user)
        assert here.get("/account/password").status_code == 200

        r = self.change(here, "correct-horse", "battery-staple")
        assert r.status_code == 303

        assert "every other session" in here.get("/").text  # still logged in, with the news
        assert not is_logged_in(elsewhere)
        assert api.get("/api/v1/me", headers=headers).status_code == 200
        fresh = second_browser()
        assert fresh.login(user, password="correct-horse").status_code == 401
        assert fresh.login(user, password="battery-staple").status_code == 303

    @pytest.mark.parametrize(
        ("current", "new", "again", "message"),
        [
            ("wrong-password", "battery-staple", None, "is not your current password"),
            ("correct-horse", "short", None, "at least 8 characters"),
            ("correct-horse", "battery-staple", "battery-stapler", "the two new passwords differ"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, browser, factory, session, current, new, again, message):  # type: ignore[no-untyped-def]
        user = factory.user()
        session.commit()
        elsewhere = logged_in(second_browser(), user)
        r = self.change(logged_in(browser, user), current, new, again)
        assert r.status_code == 422
        assert message in r.text
        assert is_logged_in(elsewhere)

    def test_setting_a_password_from_the_cli_ends_the_sessions(self, browser, factory, session):  # type: ignore[no-untyped-def]
        from typer.testing import CliRunner

        from pipewise.cli.main import app

        user = factory.user()
        session.commit()
        web = logged_in(browser, user)
        result = CliRunner().invoke(app, ["users", "set-password", user.email, "--password", "battery-staple"])
        assert result.exit_code == 0, result.output
        assert not is_logged_in(web)
        assert web.login(user, password="battery-staple").status_code == 303


def blocked_until_passes(session, scope: str) -> None:  # type: ignore[no-untyped-def]
    """Let the current wait run out (instead of sleeping through it)."""
    session.execute(
        update(LoginThrottle).where(LoginThrottle.scope == scope).values(blocked_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()


class TestLogInThrottling:
    @pytest.fixture(autouse=True)
    def long_waits(self, monkeypatch):  # type: ignore[no-untyped-def]
        """Waits long enough that no test outruns one."""
        monkeypatch.setattr(get_settings(), "login_first_delay_seconds", 60)

    def test_an_account_waits_longer_after_each_failure_and_says_so(self, browser, factory, session):  # type: ignore[no-untyped-def]
        user = factory.user()
        session.commit()
        free = get_settings().login_free_attempts
        for _ in range(free):
            assert browser.login(user, password="wrong-password").status_code == 401

        first = browser.login(user)  # even the right password waits
        assert first.status_code == 429
        assert "Too many failed log-ins" in first.text
        first_wait = int(first.headers["retry-after"])
        assert 0 < first_wait <= get_settings().login_first_delay_seconds

        blocked_until_passes(session, "account")
        assert browser.login(user, password="wrong-password").status_code == 401
        second = browser.login(user)
        assert second.status_code == 429
        assert int(second.headers["retry-after"]) > first_wait

        blocked_until_passes(session, "account")
        assert browser.login(user).status_code == 303
        session.expire_all()
        assert session.get(LoginThrottle, ("account", user.email)) is None  # success clears the count

    def test_the_block_holds_in_another_process_of_the_app(self, browser, factory, session):  # type: ignore[no-untyped-def]
        user = factory.user()
        session.commit()
        for _ in range(get_settings().login_free_attempts):
            browser.login(user, password="wrong-password")
        elsewhere = second_browser()  # a separate app instance: only the database is shared
        assert elsewhere.login(user).status_code == 429

    def test_one_address_trying_many_accounts_is_throttled(self, browser, factory, session, monkeypatch):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(get_settings(), "login_free_attempts_per_address", 3)
        users = [factory.user() for _ in range(4)]
        session.commit()
        codes = [browser.login(u, password="wrong-password").status_code for u in users[:3]]
        assert codes == [401, 401, 401]
        r = browser.login(users[3])
        assert r.status_code == 429 and "retry-after" in r.headers
        other_address = WebClient(TestClient(shared_app(), client=("198.51.100.9", 1)))
        assert other_address.login(users[3]).status_code == 303

    def test_a_forged_forwarded_for_does_not_escape_the_address_count(self, browser, factory, session, monkeypatch):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(get_settings(), "login_free_attempts_per_address", 2)
        users = [factory.user() for _ in range(3)]
        session.commit()
        for n, u in enumerate(users[:2]):
            token = browser.csrf("/login")
            browser.client.post("/login", data={"email": u.email, "password": "nope-nope", "csrf_token": token},
                                headers={"X-Forwarded-For": f"192.0.2.{n}"})
        token = browser.csrf("/login")
        r = browser.client.post("/login", data={"email": users[2].email, "password": "correct-horse", "csrf_token": token},
                                headers={"X-Forwarded-For": "192.0.2.99"}, follow_redirects=False)
        assert r.status_code == 429
        assert session.scalars(select(LoginThrottle.key).where(LoginThrottle.scope == "address")).all() == [PEER]


def proxied(forwarded_for: str) -> TestClient:
    return TestClient(shared_app(), client=(PROXY, 40000), headers={"X-Forwarded-For": forwarded_for})


class TestFormRateLimitAddress:
    def post(self, client: TestClient, key: str, n: int) -> int:
        return client.post(f"/f/{key}", json={"lname": "L", "mail": f"p{n}@example.com"}).status_code

    def test_forwarded_for_is_ignored_without_a_trusted_proxy(self, api, factory, session):  # type: ignore[no-untyped-def]
        form = make_form(api, factory.headers(factory.user(role="admin")), rate_limit_per_minute=2)
        codes = [self.post(proxied(f"192.0.2.{n}"), form["key"], n) for n in range(3)]
        assert codes == [201, 201, 429]
        assert set(session.scalars(select(FormSubmission.ip))) == {PROXY}

    def test_forwarded_for_from_a_trusted_proxy_names_the_client(self, api, factory, session, monkeypatch):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8, 127.0.0.1")
        form = make_form(api, factory.headers(factory.user(role="admin")), rate_limit_per_minute=2)
        # The client may send its own X-Forwarded-For; the proxy appends the real peer.
        codes = [self.post(proxied(f"6.6.6.6, 192.0.2.{n}"), form["key"], n) for n in range(3)]
        assert codes == [201, 201, 201]
        assert set(session.scalars(select(FormSubmission.ip))) == {"192.0.2.0", "192.0.2.1", "192.0.2.2"}
        same = [self.post(proxied("192.0.2.50"), form["key"], 10 + n) for n in range(3)]
        assert same == [201, 201, 429]


class TestClientAddressSetting:
    def test_a_bad_trusted_proxy_entry_stops_the_app_at_start(self, monkeypatch):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8, proxy.internal")
        with pytest.raises(ValueError, match="proxy.internal"):
            create_app(start_worker=False)
