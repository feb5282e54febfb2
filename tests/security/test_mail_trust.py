"""Mail trust, through the API and the worker against a real SMTP server on loopback:
one mail path for every sender (a suppressed address gets nothing, whoever sends),
RFC 8058 List-Unsubscribe bytes, verified From addresses, the sent-mail list by team,
the inbound gateway's signature, encrypted mailbox passwords, sequence routes and
visibility, and closed deals ending nurture."""

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.automation.service import workflow_service
from pipewise.config import get_settings
from pipewise.deals.service import deal_service
from pipewise.mail import mailboxes, senders
from pipewise.mail.models import EmailMessage, MailAddress, Mailbox, Suppression
from pipewise.mail.settings import get_mail_settings
from pipewise.mail.suppression import suppress
from pipewise.sequences.models import Enrollment
from pipewise.sequences.service import sequence_service
from tests.sequences.support import (
    INBOUND_SECRET,
    OPEN_ALL_WEEK,
    RecordingHandler,
    SmtpServer,
    email_step,
    free_port,
    gateway_headers,
    live_sequence,
    mailbox,
    run_worker,
)


@dataclass
class MailServer:
    """The SMTP server every test sends through: the global server, and the one a
    mailbox of its own points at (``mailbox_settings``)."""

    server: SmtpServer

    @property
    def handler(self) -> RecordingHandler:
        return self.server.handler

    def mailbox_settings(self, port: int | None = None, **kw: Any) -> dict[str, Any]:
        return {"smtp_host": "127.0.0.1", "smtp_port": port or self.server.port, "smtp_security": "none", **kw}


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    """The one place the tests' SMTP settings are made (loopback)."""
    server = SmtpServer().start()
    for name, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(server.port)), ("SMTP_SECURITY", "none")):
        monkeypatch.setenv(f"PIPEWISE_{name}", value)
    # Mailboxes' own servers are on loopback too, which users' servers may reach only
    # when the operator allows it (tests/security/test_smtp_ssrf.py checks the refusal).
    monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", "127.0.0.1")
    get_mail_settings.cache_clear()
    get_settings.cache_clear()
    yield MailServer(server)
    server.stop()
    get_mail_settings.cache_clear()
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def handlers() -> None:
    from pipewise import domains

    domains.load()


@pytest.fixture
def rep(session, factory):  # type: ignore[no-untyped-def]
    user = factory.user(name="Rita Rep", team=factory.team())
    mailbox(session, user)
    return user


@pytest.fixture
def admin(factory):  # type: ignore[no-untyped-def]
    return factory.user(role="admin", name="Ada Admin")


def fresh(session) -> None:  # type: ignore[no-untyped-def]
    session.commit()
    session.expire_all()


def ledger_to(session, address: str) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    fresh(session)
    return list(session.scalars(select(EmailMessage).where(EmailMessage.to_address == address)))


def workflow(session, factory, author, steps: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    definition = {"trigger": {"type": "manual", "record_type": "contact"}, "steps": steps}
    flow = workflow_service.create(session, name="Welcome", definition=definition, actor=factory.actor(author))
    workflow_service.activate(session, flow.id, actor=factory.actor(author))
    session.commit()
    return flow


def run_workflow(session, factory, author, steps, contact):  # type: ignore[no-untyped-def]
    flow = workflow(session, factory, author, steps)
    workflow_service.enroll_records(session, flow.id, [contact.id], actor=factory.actor(author))
    session.commit()
    run_worker()
    return flow


# -- one mail path --


class TestEveryMailGoesThroughTheLedger:
    def test_a_workflow_email_goes_over_smtp_once_with_the_ledger_and_its_step_key(self, session, factory, smtp, admin):
        contact = factory.contact(admin)
        session.commit()
        outbox = get_settings().outbox_dir
        files_before = set(outbox.glob("*.eml")) if outbox.exists() else set()
        run_workflow(session, factory, admin, [{"id": "hi", "type": "send_email", "subject": "Hi {{ record.first_name }}", "body": "Hello"}], contact)
        (received,) = smtp.handler.to(contact.email)
        assert received["Subject"] == f"Hi {contact.first_name}"
        key = str(received["X-Pipewise-Idempotency-Key"]).strip()
        assert key.startswith("wf:")
        (row,) = ledger_to(session, contact.email)
        assert (row.kind, row.status, row.sender_id, row.send_key) == ("workflow", "sent", admin.id, key)
        assert (set(outbox.glob("*.eml")) if outbox.exists() else set()) == files_before  # SMTP, not a file

    def test_the_same_step_key_writes_one_message(self, session, factory, smtp, admin):
        from pipewise.automation import mail

        contact = factory.contact(admin)
        first = mail.send(session, key="wf:test:step", to=contact.email, subject="Once", body="x", record=contact, author_id=admin.id)
        again = mail.send(session, key="wf:test:step", to=contact.email, subject="Once", body="x", record=contact, author_id=admin.id)
        assert first.id == again.id
        session.commit()
        run_worker()
        assert len(smtp.handler.to(contact.email)) == 1

    def test_a_workflows_automated_mail_counts_against_its_authors_daily_cap(self, session, factory, smtp, admin):
        mailbox(session, admin, daily_cap=1)
        first, second = factory.contact(admin), factory.contact(admin)
        session.commit()
        flow = workflow(session, factory, admin, [{"id": "hi", "type": "send_email", "subject": "Hi", "body": "Hello"}])
        workflow_service.enroll_records(session, flow.id, [first.id, second.id], actor=factory.actor(admin))
        session.commit()
        run_worker()
        assert len(smtp.handler.messages) == 1
        fresh(session)
        held = session.scalar(select(EmailMessage).where(EmailMessage.status == "queued"))
        assert held is not None and "cap of 1" in held.error and held.next_attempt_at is not None


class TestASuppressedAddressGetsNothing:
    """Whoever sends: a sequence step, a workflow e-mail, a workflow notice, a rep's send."""

    def test_sequence_step(self, session, factory, smtp, rep):
        contact = factory.contact(rep)
        sequence = live_sequence(session, "Nurture", [email_step("Hello", "<p>Hi</p>")])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        suppress(session, contact.email, reason="manual")
        session.commit()
        run_worker()
        assert smtp.handler.to(contact.email) == []
        assert all(m.status == "cancelled" for m in ledger_to(session, contact.email))

    def test_sequence_step_already_queued_is_stopped_at_the_last_look(self, session, factory, smtp, rep):
        contact = factory.contact(rep)
        sequence = live_sequence(session, "Nurture", [email_step("Hello", "<p>Hi</p>")])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        # Suppressed behind the mail package's back, as another process might.
        session.add(Suppression(address=contact.email, reason="manual"))
        session.commit()
        run_worker()
        assert smtp.handler.to(contact.email) == []

    def test_workflow_send_email(self, session, factory, smtp, admin):
        contact = factory.contact(admin)
        suppress(session, contact.email, reason="unsubscribe")
        session.commit()
        run_workflow(session, factory, admin, [{"id": "hi", "type": "send_email", "subject": "Hi", "body": "Hello"}], contact)
        assert smtp.handler.to(contact.email) == []
        assert ledger_to(session, contact.email) == []
        from pipewise.automation.models import Enrollment as WorkflowEnrollment

        enrollment = session.scalar(select(WorkflowEnrollment).where(WorkflowEnrollment.record_id == contact.id))
        assert "suppression list" in enrollment.exit_reason

    def test_workflow_send_email_to_a_literal_address(self, session, factory, smtp, admin):
        contact = factory.contact(admin)
        suppress(session, "partner@example.org", reason="manual")
        session.commit()
        run_workflow(session, factory, admin, [{"id": "fw", "type": "send_email", "to": "Partner@Example.org", "subject": "Lead", "body": "x"}], contact)
        assert smtp.handler.to("partner@example.org") == [] and smtp.handler.messages == []

    def test_workflow_notify_by_email(self, session, factory, smtp, admin):
        owner = factory.user(name="Olga Owner")
        contact = factory.contact(owner)
        suppress(session, owner.email, reason="manual")
        session.commit()
        steps = [{"id": "n", "type": "notify", "title": "Look at {{ record.last_name }}", "channels": ["email"]}]
        run_workflow(session, factory, admin, steps, contact)
        assert smtp.handler.to(owner.email) == []

    def test_workflow_notify_by_email_reaches_an_unsuppressed_user(self, session, factory, smtp, admin):
        owner = factory.user(name="Olga Owner")
        contact = factory.contact(owner)
        session.commit()
        run_workflow(session, factory, admin, [{"id": "n", "type": "notify", "title": "Look", "channels": ["email"]}], contact)
        (received,) = smtp.handler.to(owner.email)
        assert received["Subject"] == "Look"

    def test_manual_send_from_the_today_queue(self, session, factory, smtp, rep, api):
        contact = factory.contact(rep)
        manual = {"kind": "manual_email", "variants": [{"label": "A", "subject": "Quick one", "body_html": "<p>Hi</p>"}]}
        sequence = live_sequence(session, "Manual", [manual])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        fresh(session)
        task_id = session.scalar(select(Enrollment.waiting_task_id).where(Enrollment.contact_id == contact.id))
        suppress(session, contact.email, reason="manual")
        session.commit()
        response = api.post(f"/api/v1/tasks/{task_id}/send-step", json={"subject": "Quick one", "body_text": "Hi"}, headers=factory.headers(rep))
        assert response.status_code == 422
        assert any(e["field"] == "contact_id" and "suppression list" in e["message"] for e in response.json()["errors"])
        run_worker()
        assert smtp.handler.to(contact.email) == [] and ledger_to(session, contact.email) == []


# -- RFC 8058 --


def test_list_unsubscribe_goes_out_unencoded_on_one_line_with_one_click(session, factory, smtp, rep, api):
    contact = factory.contact(rep)
    sequence = live_sequence(session, "Nurture", [email_step("Hello " + "long subject " * 8, "<p>Hi</p>")])
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    (raw,) = smtp.handler.raw
    headers = raw.split(b"\r\n\r\n", 1)[0]
    (line,) = [h for h in headers.split(b"\r\n") if h.lower().startswith(b"list-unsubscribe:")]
    match = re.fullmatch(rb"List-Unsubscribe: <(https?://[^>\s]+)>, <(mailto:[^>\s]+)>", line)
    assert match, line
    assert b"=?" not in line
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers + b"\r\n"
    assert match[2].startswith(f"mailto:{rep.email}?subject=unsubscribe%20".encode())
    # The one-click POST a mailbox provider makes, to the exact URL of the header.
    response = api.post(match[1].decode().split("8000", 1)[1], data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert session.scalar(select(func.count()).select_from(EmailMessage).where(EmailMessage.unsubscribed_at.is_not(None))) == 1


def test_a_reply_to_the_unsubscribe_mailto_unsubscribes(session, factory, smtp, rep, api, monkeypatch):
    monkeypatch.setenv("PIPEWISE_INBOUND_SECRET", INBOUND_SECRET)
    get_settings.cache_clear()
    contact = factory.contact(rep)
    sequence = live_sequence(session, "Nurture", [email_step("Hello", "<p>Hi</p>")])
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    mailto = re.search(r"<mailto:[^?]+\?subject=unsubscribe%20([^>]+)>", str(smtp.handler.messages[0]["List-Unsubscribe"]))[1]
    raw = f"From: {contact.email}\r\nTo: {rep.email}\r\nSubject: unsubscribe {mailto}\r\nMessage-ID: <u1@example.org>\r\n\r\n\r\n".encode()
    response = api.post("/api/v1/inbound/email", content=raw, headers=gateway_headers(raw))
    assert response.status_code == 200 and response.json()["kind"] == "unsubscribe"
    fresh(session)
    assert session.scalar(select(Suppression.reason).where(Suppression.address == contact.email)) == "unsubscribe"
    get_settings.cache_clear()


# -- From addresses --


class TestFromAddresses:
    def test_an_unverified_from_is_refused_with_the_field(self, session, factory, rep, api):
        response = api.put("/api/v1/mailboxes", json={"from_address": "ceo@example.com"}, headers=factory.headers(rep))
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["from_address"]
        fresh(session)
        assert session.scalar(select(Mailbox.from_address).where(Mailbox.user_id == rep.id)) == rep.email

    def test_the_login_address_is_always_allowed(self, session, factory, rep, api):
        response = api.put("/api/v1/mailboxes", json={"from_address": rep.email.upper()}, headers=factory.headers(rep))
        assert response.status_code == 200

    def test_a_confirmation_link_proves_an_address(self, session, factory, smtp, rep, api):
        requested = api.post("/api/v1/mail-addresses", json={"address": "rita@sales.example"}, headers=factory.headers(rep))
        assert requested.status_code == 201 and requested.json()["verified_at"] is None
        run_worker()
        (letter,) = smtp.handler.to("rita@sales.example")
        assert "List-Unsubscribe" not in letter
        link = re.search(r"https?://\S+/api/v1/mail-addresses/confirm/\S+", letter.get_content())[0]
        assert api.put("/api/v1/mailboxes", json={"from_address": "rita@sales.example"}, headers=factory.headers(rep)).status_code == 422
        opened = api.get(link.split("8000", 1)[1])
        assert opened.status_code == 200 and "rita@sales.example" in opened.text
        assert api.put("/api/v1/mailboxes", json={"from_address": "rita@sales.example"}, headers=factory.headers(rep)).status_code == 200
        listed = api.get("/api/v1/mail-addresses", headers=factory.headers(rep)).json()
        assert [(a["address"], a["method"]) for a in listed] == [("rita@sales.example", "link")]

    def test_a_tampered_or_expired_link_is_refused(self, session, factory, rep, api, monkeypatch):
        row = MailAddress(user_id=rep.id, address="rita@sales.example", method="link")
        session.add(row)
        session.commit()
        token = senders.confirmation_url(row).rsplit("/", 1)[1]
        assert api.get(f"/api/v1/mail-addresses/confirm/{token}x").status_code == 404
        later = time.time() + (get_settings().sender_confirmation_hours + 1) * 3600
        monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
        assert api.get(f"/api/v1/mail-addresses/confirm/{token}").status_code == 422
        fresh(session)
        assert session.get(MailAddress, row.id).verified_at is None

    def test_an_admin_approves_and_a_rep_cannot_approve_for_others(self, session, factory, rep, admin, api):
        other = factory.user()
        session.commit()
        assert api.post("/api/v1/mail-addresses", json={"address": "x@corp.example", "user_id": str(other.id)},
                        headers=factory.headers(rep)).status_code == 403
        approved = api.post("/api/v1/mail-addresses", json={"address": "team@corp.example", "user_id": str(rep.id)}, headers=factory.headers(admin))
        assert approved.status_code == 201 and approved.json()["method"] == "admin" and approved.json()["verified_at"]
        assert api.put("/api/v1/mailboxes", json={"from_address": "team@corp.example"}, headers=factory.headers(rep)).status_code == 200

    def test_a_revoked_address_is_no_longer_sent_as(self, session, factory, smtp, rep, admin, api):
        approved = api.post("/api/v1/mail-addresses", json={"address": "team@corp.example", "user_id": str(rep.id)}, headers=factory.headers(admin))
        api.put("/api/v1/mailboxes", json={"from_address": "team@corp.example"}, headers=factory.headers(rep))
        assert api.delete(f"/api/v1/mail-addresses/{approved.json()['id']}", headers=factory.headers(admin)).status_code == 204
        contact = factory.contact(rep)
        sequence = live_sequence(session, "Nurture", [email_step("Hello", "<p>Hi</p>")])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        (received,) = smtp.handler.to(contact.email)
        assert rep.email in str(received["From"]) and "team@corp.example" not in str(received["From"])


class TestSentMail:
    def test_a_user_sees_their_own_and_their_teams_mail_and_an_admin_all(self, session, factory, smtp, api):
        team, elsewhere = factory.team(), factory.team()
        rita, tom, olga = factory.user(team=team), factory.user(team=team), factory.user(team=elsewhere)
        admin = factory.user(role="admin")
        sent = {}
        for user in (rita, tom, olga):
            contact = factory.contact(user)
            sent[user.id] = sequence_service.send_email(
                session, contact_id=contact.id, subject=f"From {user.name}", body_html="<p>x</p>", actor=factory.actor(user), kind="manual"
            ).id
        session.commit()

        def listed(user):  # type: ignore[no-untyped-def]
            return {m["id"] for m in api.get("/api/v1/email-messages", headers=factory.headers(user)).json()}

        assert listed(rita) == listed(tom) == {str(sent[rita.id]), str(sent[tom.id])}
        assert listed(olga) == {str(sent[olga.id])}
        assert listed(admin) == {str(i) for i in sent.values()}
        assert api.get(f"/api/v1/email-messages/{sent[olga.id]}", headers=factory.headers(rita)).status_code == 404
        assert api.get(f"/api/v1/email-messages/{sent[rita.id]}", headers=factory.headers(tom)).status_code == 200


# -- inbound gateway --


class TestInboundGateway:
    RAW = b"From: someone@example.org\r\nTo: rep@example.com\r\nSubject: hi\r\nMessage-ID: <in-1@example.org>\r\n\r\nhello\r\n"

    def test_a_user_token_is_not_a_gateway_credential(self, factory, api, monkeypatch):
        monkeypatch.setenv("PIPEWISE_INBOUND_SECRET", INBOUND_SECRET)
        get_settings.cache_clear()
        admin = factory.user(role="admin")
        assert api.post("/api/v1/inbound/email", content=self.RAW, headers=factory.headers(admin)).status_code == 401
        get_settings.cache_clear()

    def test_unset_secret_bad_signature_and_replay_are_refused(self, api, monkeypatch):
        get_settings.cache_clear()
        assert api.post("/api/v1/inbound/email", content=self.RAW, headers=gateway_headers(self.RAW)).status_code == 401
        monkeypatch.setenv("PIPEWISE_INBOUND_SECRET", INBOUND_SECRET)
        get_settings.cache_clear()
        wrong = gateway_headers(self.RAW, secret="guessed")
        assert api.post("/api/v1/inbound/email", content=self.RAW, headers=wrong).status_code == 401
        other_body = gateway_headers(self.RAW + b"x")
        assert api.post("/api/v1/inbound/email", content=self.RAW, headers=other_body).status_code == 401
        old = gateway_headers(self.RAW, at=time.time() - 3600)
        refused = api.post("/api/v1/inbound/email", content=self.RAW, headers=old)
        assert refused.status_code == 401 and "window" in refused.json()["detail"]
        good = api.post("/api/v1/inbound/email", content=self.RAW, headers=gateway_headers(self.RAW))
        assert good.status_code == 200 and good.json()["kind"] == "unmatched"
        again = api.post("/api/v1/inbound/email", content=self.RAW, headers=gateway_headers(self.RAW))
        assert again.json()["kind"] == "duplicate"
        get_settings.cache_clear()


# -- mailbox passwords and server --


@pytest.fixture
def login_server() -> Iterator[tuple[Controller, RecordingHandler]]:
    def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.password in ("s3cret", b"s3cret")
        return AuthResult(success=ok, handled=False)

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticate, auth_require_tls=False)
    controller.start()
    yield controller, handler
    controller.stop()


class TestMailboxServer:
    def test_the_password_is_encrypted_at_rest_never_returned_and_used_to_log_in(self, session, factory, smtp, login_server, api):
        controller, handler = login_server
        user = factory.user()
        session.commit()
        body = {**smtp.mailbox_settings(controller.port), "smtp_username": "rep", "smtp_password": "s3cret", **OPEN_ALL_WEEK}
        saved = api.put("/api/v1/mailboxes", json=body, headers=factory.headers(user))
        assert saved.status_code == 200 and "s3cret" not in saved.text and "smtp_password" not in saved.json()
        assert "s3cret" not in api.get("/api/v1/mailboxes", headers=factory.headers(user)).text
        fresh(session)
        stored = session.scalar(select(Mailbox.smtp_password).where(Mailbox.user_id == user.id))
        assert stored and "s3cret" not in stored
        contact = factory.contact(user)
        sequence_service.send_email(session, contact_id=contact.id, subject="Via my server", body_html="<p>x</p>", actor=factory.actor(user), kind="manual")
        session.commit()
        run_worker()
        assert [m["Subject"] for m in handler.messages] == ["Via my server"] and smtp.handler.messages == []

    def test_a_password_made_with_another_secret_key_is_a_setup_problem_not_a_send(self, session, factory, smtp, login_server):
        controller, handler = login_server
        user = factory.user()
        row = Mailbox(user_id=user.id, from_name="R", from_address=user.email, **smtp.mailbox_settings(controller.port), smtp_username="rep",
                      smtp_password=mailboxes.secrets.encrypt("s3cret", secret_key="another key"), **OPEN_ALL_WEEK)
        session.add(row)
        contact = factory.contact(user)
        message = sequence_service.send_email(session, contact_id=contact.id, subject="x", body_html="<p>x</p>", actor=factory.actor(user), kind="manual")
        session.commit()
        run_worker()
        fresh(session)
        message = session.get(EmailMessage, message.id)
        assert handler.messages == [] and message.status == "queued" and "another secret key" in message.error

    @pytest.mark.parametrize("host", ["smtp example.com", "-bad-.example", "exa_mple.com", "a" * 64 + ".com"])
    def test_a_host_that_is_not_a_host_name_is_refused(self, factory, api, host):
        user = factory.user()
        response = api.put("/api/v1/mailboxes", json={"smtp_host": host}, headers=factory.headers(user))
        assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["smtp_host"]


# -- sequence routes and visibility --


def test_steps_enrollments_and_unenroll_are_reachable(session, factory, api):
    admin = factory.user(role="admin")
    contact = factory.contact(admin)
    session.commit()
    headers = factory.headers(admin)
    created = api.post("/api/v1/sequences", json={"name": "Routes"}, headers=headers)
    sequence_id = created.json()["id"]
    step = api.post(f"/api/v1/sequences/{sequence_id}/steps", json=email_step("Hello", "<p>Hi</p>"), headers=headers)
    assert step.status_code == 201 and len(step.json()["steps"]) == 1
    assert api.post(f"/api/v1/sequences/{sequence_id}/activate", headers=headers).json()["status"] == "active"
    enrolled = api.post(f"/api/v1/sequences/{sequence_id}/enrollments", json={"contact_ids": [str(contact.id)]}, headers=headers)
    assert enrolled.status_code == 200 and len(enrolled.json()["enrolled"]) == 1
    removed = api.post(f"/api/v1/sequences/{sequence_id}/unenroll", json={"contact_id": str(contact.id), "reason": "test"}, headers=headers)
    assert removed.status_code == 200 and removed.json()["status"] == "exited"
    assert api.post(f"/api/v1/sequences/{sequence_id}/pause", headers=headers).json()["status"] == "paused"
    assert api.post(f"/api/v1/sequences/{sequence_id}/archive", headers=headers).json()["status"] == "archived"
    assert api.post(f"/api/v1/sequences/{sequence_id}/nonsense", headers=headers).status_code in (404, 405)


def test_enrollments_metrics_and_decisions_show_only_visible_contacts(session, factory, smtp, api):
    mine_team, other_team = factory.team(), factory.team()
    rita, olga = factory.user(team=mine_team), factory.user(team=other_team)
    mailbox(session, rita)
    mailbox(session, olga)
    own, foreign = factory.contact(rita), factory.contact(olga)
    sequence = live_sequence(session, "Shared", [email_step("Hello", "<p>Hi</p>")])
    for contact in (own, foreign):
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    fresh(session)
    foreign_enrollment = session.scalar(select(Enrollment.id).where(Enrollment.contact_id == foreign.id))
    headers = factory.headers(rita)
    listed = api.get("/api/v1/sequence-enrollments", headers=headers).json()
    assert [e["contact_id"] for e in listed] == [str(own.id)]
    assert api.get(f"/api/v1/sequence-enrollments?contact_id={foreign.id}", headers=headers).json() == []
    assert api.get(f"/api/v1/sequence-enrollments/{foreign_enrollment}/decisions", headers=headers).status_code == 404
    assert api.post(f"/api/v1/sequence-enrollments/{foreign_enrollment}/pause", json={"reason": "x"}, headers=headers).status_code == 404
    (metrics,) = api.get(f"/api/v1/sequences/{sequence.id}/metrics", headers=headers).json()
    assert metrics["sent"] == 1
    (everything,) = api.get(f"/api/v1/sequences/{sequence.id}/metrics", headers=factory.headers(factory.user(role="admin"))).json()
    assert everything["sent"] == 2


# -- closed deals end nurture --


class TestClosedDeals:
    def _setup(self, session, factory, rep, *, coordination: bool = True):  # type: ignore[no-untyped-def]
        _pipeline, stages = factory.pipeline()
        account = factory.account(rep)
        on_deal, colleague = factory.contact(rep, account_id=account.id), factory.contact(rep, account_id=account.id)
        deal = factory.deal(rep, account_id=account.id, stage_id=stages[0].id)
        deal_service.add_contact(session, deal.id, on_deal.id, role="champion", actor=SYSTEM_ACTOR)
        steps = [email_step("Hello", "<p>Hi</p>"), email_step("Again", "<p>Hi</p>", delay_days=3)]
        sequence = live_sequence(session, "Nurture", steps, rules={"account_coordination": coordination})
        for contact in (on_deal, colleague):
            sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        return stages, deal, on_deal, colleague

    def status(self, session, contact) -> str:  # type: ignore[no-untyped-def]
        fresh(session)
        return session.scalar(select(Enrollment.status).where(Enrollment.contact_id == contact.id))

    def test_a_deal_moved_straight_to_won_takes_its_contacts_and_the_accounts_out(self, session, factory, smtp, rep, api):
        stages, deal, on_deal, colleague = self._setup(session, factory, rep)
        won = next(s for s in stages if s.kind == "won")
        moved = api.post(f"/api/v1/deals/{deal.id}/move", json={"stage_id": str(won.id)}, headers=factory.headers(rep))
        assert moved.status_code == 200, moved.text
        run_worker()
        assert self.status(session, on_deal) == self.status(session, colleague) == "exited"
        fresh(session)
        reasons = set(session.scalars(select(Enrollment.reason).where(Enrollment.status == "exited")))
        assert all("was closed at Closed won" in r for r in reasons)

    def test_a_lost_deal_by_patch_without_account_coordination_takes_only_its_contacts(self, session, factory, smtp, rep, api):
        stages, deal, on_deal, colleague = self._setup(session, factory, rep, coordination=False)
        lost = next(s for s in stages if s.kind == "lost")
        patched = api.patch(f"/api/v1/deals/{deal.id}", json={"stage_id": str(lost.id), "lost_reason": "budget"}, headers=factory.headers(rep))
        assert patched.status_code == 200, patched.text
        run_worker()
        assert self.status(session, on_deal) == "exited"
        assert self.status(session, colleague) == "active"

    def test_a_deal_closed_before_the_enrollment_is_not_news(self, session, factory, smtp, rep):
        _pipeline, stages = factory.pipeline()
        contact = factory.contact(rep)
        deal = factory.deal(rep, stage_id=stages[0].id)
        deal_service.add_contact(session, deal.id, contact.id, role="champion", actor=SYSTEM_ACTOR)
        deal_service.move_to_stage(session, deal.id, next(s for s in stages if s.kind == "won").id, actor=SYSTEM_ACTOR)
        session.commit()
        fresh(session)
        deal_row = deal_service.get(session, deal.id, actor=SYSTEM_ACTOR)
        deal_row.closed_at = deal_row.closed_at.replace(year=deal_row.closed_at.year - 1)
        session.commit()
        sequence = live_sequence(session, "Later", [email_step("Hello", "<p>Hi</p>")])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        assert len(smtp.handler.to(contact.email)) == 1


def test_nothing_outside_the_mail_package_speaks_smtp_or_writes_eml_files():
    import pathlib

    import pipewise

    root = pathlib.Path(pipewise.__file__).parent
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if path.parent.name != "mail" and re.search(r"^\s*(import smtplib|from smtplib)|\.eml\b.*(write_bytes|open\()", path.read_text(), re.M)
    ]
    assert offenders == []
