"""A mailbox's own SMTP and IMAP servers follow the outbound rule of webhooks: no loopback,
link-local or private address unless the operator allows it — when the mailbox is saved
and again, after resolution, each time the server is connected to."""

import pytest
from sqlalchemy import select

from pipewise.config import get_settings
from pipewise.mail.delivery import deliver
from pipewise.mail.models import EmailMessage, Mailbox
from pipewise.sequences.service import sequence_service
from tests.security.test_mail_trust import fresh, login_server, smtp  # noqa: F401 - fixtures
from tests.sequences.support import OPEN_ALL_WEEK, run_worker


def _allow(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", value)
    get_settings.cache_clear()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.8", "169.254.169.254", "[::1]", "fd00::1", "192.168.1.20"])
def test_an_internal_smtp_host_is_refused_when_saved(api, factory, host):
    user = factory.user()
    response = api.put("/api/v1/mailboxes", json={"smtp_host": host, "smtp_port": 25}, headers=factory.headers(user))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "smtp_host" and "PIPEWISE_OUTBOUND_ALLOW" in error["message"]


def test_an_allowed_internal_host_is_saved(api, factory, monkeypatch):
    _allow(monkeypatch, "10.0.0.0/8,relay.internal")
    user = factory.user()
    for host in ("10.1.2.3", "relay.internal"):
        response = api.put("/api/v1/mailboxes", json={"smtp_host": host, "smtp_port": 25}, headers=factory.headers(user))
        assert response.status_code == 200, response.text


def test_the_connection_is_checked_again_when_mail_is_sent(session, factory, smtp, login_server, monkeypatch):  # noqa: F811
    """Saved while allowed, sent after the operator took the allowance back: nothing
    reaches the server and the message waits with the reason, not as a bounce."""
    controller, handler = login_server
    user = factory.user()
    session.add(
        Mailbox(user_id=user.id, from_name="R", from_address=user.email, smtp_host="127.0.0.1", smtp_port=controller.port,
                smtp_security="none", **OPEN_ALL_WEEK)
    )
    contact = factory.contact(user)
    message = sequence_service.send_email(
        session, contact_id=contact.id, subject="Through loopback?", body_html="<p>x</p>", actor=factory.actor(user), kind="manual"
    )
    session.commit()
    _allow(monkeypatch, "")
    run_worker()
    fresh(session)
    stored = session.scalar(select(EmailMessage).where(EmailMessage.id == message.id))
    assert handler.messages == [] and smtp.handler.messages == []
    assert stored.status == "queued" and "loopback" in stored.error and "PIPEWISE_OUTBOUND_ALLOW" in stored.error

    _allow(monkeypatch, "127.0.0.1")
    stored.next_attempt_at = None
    session.commit()
    deliver(message.id)
    assert [m["Subject"] for m in handler.messages] == ["Through loopback?"]


def test_the_operators_own_server_is_trusted(session, factory, smtp, monkeypatch):  # noqa: F811
    """PIPEWISE_SMTP_HOST is set by the operator, not typed by a user: not checked."""
    user = factory.user()
    contact = factory.contact(user)
    sequence_service.send_email(session, contact_id=contact.id, subject="Global", body_html="<p>x</p>", actor=factory.actor(user), kind="manual")
    session.commit()
    _allow(monkeypatch, "")
    run_worker()
    assert [m["Subject"] for m in smtp.handler.messages] == ["Global"]


def test_an_internal_imap_host_is_refused_when_saved(api, factory):
    user = factory.user()
    response = api.put("/api/v1/mailboxes", json={"imap_host": "169.254.169.254"}, headers=factory.headers(user))
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["imap_host"]


def test_a_mailbox_imap_poll_never_connects_inside(session, factory):
    """Polling a user's IMAP server that resolves inside stops before connecting."""
    from pipewise.sequences.inbound import poll_all

    user = factory.user()
    session.add(Mailbox(user_id=user.id, from_name="R", from_address=user.email, imap_host="localhost", imap_port=1,
                        imap_username="rita", **OPEN_ALL_WEEK))
    session.commit()
    results = poll_all()
    assert "loopback" in str(results[user.email]) and "PIPEWISE_OUTBOUND_ALLOW" in str(results[user.email])
