"""Deliveries to a real receiver on loopback, checked with the reference
``standardwebhooks`` library: signatures, rotation, retries over days, disabling,
refused addresses, replay and ordering. The worker's clock is moved, never slept on."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.audit.models import AuditEntry
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.config import get_settings
from pipewise.crm.service import account_service
from pipewise.integrations.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from pipewise.notifications.models import Notification
from tests.automation.support import Clock
from tests.integrations.webhooks.conftest import drain, subscribe
from tests.integrations.webhooks.receiver import Receiver, running_receiver


def rename(session: Session, account: Any, name: str) -> None:
    account_service.update(session, account, data={"name": name}, actor=SYSTEM_ACTOR)
    session.flush()


def run_for(session: Session, clock: Clock, *, hours: float, step_minutes: float = 30) -> None:
    """Move the clock ``hours`` ahead in steps, letting the worker do what falls due."""
    for _ in range(int(hours * 60 / step_minutes)):
        clock.advance(minutes=step_minutes)
        drain(session)


def stored(session: Session, endpoint: dict[str, Any]) -> WebhookEndpoint | None:
    session.expire_all()
    return session.get(WebhookEndpoint, uuid.UUID(endpoint["id"]))


class TestSignedDelivery:
    def test_a_committed_event_reaches_the_receiver_signed(self, api: Any, admin_headers: dict[str, str],
                                                             receiver: Receiver, factory: Any, session: Session) -> None:
        subscribe(api, admin_headers, receiver, event_types=["account.created"])
        account = factory.account(name="Acme")
        factory.contact(last_name="Not subscribed")  # contact.created: no endpoint takes it
        session.rollback()
        drain(session)
        assert receiver.requests == 0, "nothing is sent for an event that never committed"
        account = factory.account(name="Acme")
        assert receiver.requests == 0, "nothing is sent before the worker runs"
        drain(session)
        [delivered] = receiver.accepted
        assert receiver.bad_signatures == 0
        assert delivered.payload["type"] == "account.created"
        assert delivered.payload["data"]["record_id"] == str(account.id)
        assert delivered.payload["data"]["record_type"] == "account"
        assert delivered.payload["timestamp"].endswith("Z")
        assert delivered.webhook_id.startswith("msg_") and delivered.headers["webhook-signature"].startswith("v1,")

    def test_a_receiver_without_the_secret_rejects_it(self, api: Any, admin_headers: dict[str, str],
                                                       factory: Any, session: Session) -> None:
        with running_receiver(["whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"]) as stranger:
            response = api.post("/api/v1/webhooks", headers=admin_headers,
                                json={"url": stranger.url, "event_types": ["*"]})
            assert response.status_code == 201
            factory.account()
            drain(session)
            assert stranger.requests > 0 and stranger.bad_signatures == stranger.requests and stranger.accepted == []

    def test_rotation_signs_with_both_secrets_during_the_overlap(
        self, api: Any, admin_headers: dict[str, str], factory: Any, session: Session, clock: Clock,
    ) -> None:
        with running_receiver() as old_only, running_receiver() as new_only:
            endpoint = subscribe(api, admin_headers, old_only)
            rotated = api.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", headers=admin_headers).json()
            new_only.secrets.append(rotated["secret"])
            factory.account()
            drain(session)
            [attempt] = session.scalars(select(WebhookAttempt)).all()
            body = session.scalars(select(WebhookMessage.body)).one().encode()
            headers = {**attempt.request_headers}
            assert len(headers["webhook-signature"].split(" ")) == 2
            assert old_only.verified_by(body, headers) and new_only.verified_by(body, headers)

            clock.advance(hours=25)  # past the overlap: the old secret no longer signs
            factory.account()
            drain(session)
            latest = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id.desc())).first()
            assert latest is not None and len(latest.request_headers["webhook-signature"].split(" ")) == 1
            body = session.get(WebhookMessage, latest.message_id).body.encode()  # type: ignore[union-attr]
            assert new_only.verified_by(body, latest.request_headers)
            assert not old_only.verified_by(body, latest.request_headers)


class TestRetries:
    def test_a_receiver_down_for_72_hours_gets_every_event_once(
        self, api: Any, admin_headers: dict[str, str], receiver: Receiver, factory: Any, session: Session, clock: Clock,
    ) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        receiver.stop()
        accounts = [factory.account(name=f"Account {n}") for n in range(6)]
        for account in accounts[:3]:
            rename(session, account, f"{account.name} renamed")
        drain(session)
        expected = set(session.scalars(select(WebhookMessage.id)))
        assert len(expected) == 9
        run_for(session, clock, hours=72)
        assert receiver.accepted == []
        assert stored(session, endpoint).enabled  # type: ignore[union-attr]
        failures = session.scalars(select(WebhookAttempt.outcome).distinct()).all()
        assert failures == ["failed"]

        receiver.start()
        run_for(session, clock, hours=16)
        acted_on = receiver.acted_on()
        assert set(acted_on) == {f"msg_{m.hex}" for m in expected}, "every event arrives"
        assert set(acted_on.values()) == {1}, "each webhook-id is acted on once"
        assert set(receiver.seen.values()) == {1}, "nothing is sent again once delivered"
        statuses = set(session.scalars(select(WebhookMessage.status)))
        assert statuses == {"delivered"}

    def test_an_attempt_lost_with_its_worker_is_made_again(
        self, api: Any, admin_headers: dict[str, str], receiver: Receiver, factory: Any, session: Session, clock: Clock,
        monkeypatch: Any,
    ) -> None:
        from pipewise.integrations.webhooks import delivery

        subscribe(api, admin_headers, receiver)
        send_and_record = delivery._send_and_record
        monkeypatch.setattr(delivery, "_send_and_record", lambda sends: None)  # the worker dies right after its commit
        factory.account()
        drain(session)
        assert receiver.requests == 0
        monkeypatch.setattr(delivery, "_send_and_record", send_and_record)
        clock.advance(minutes=11)
        drain(session)
        assert len(receiver.accepted) == 1 and set(receiver.seen.values()) == {1}
        assert session.scalars(select(WebhookMessage.status)).all() == ["delivered"]

    def test_the_schedule_spans_more_than_three_days(self) -> None:
        from pipewise.integrations.webhooks.delivery import JITTER, RETRY_DELAYS

        assert sum(d.total_seconds() for d in RETRY_DELAYS) * (1 - JITTER) > 72 * 3600

    def test_a_410_disables_the_endpoint_at_once(self, api: Any, admin_headers: dict[str, str], receiver: Receiver,
                                                  factory: Any, admin: Any, session: Session) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        receiver.status = 410
        factory.account()
        drain(session)
        row = stored(session, endpoint)
        assert row is not None and not row.enabled and "410" in (row.disabled_reason or "")
        assert session.scalars(select(WebhookMessage.status)).all() == ["failed"]
        factory.account()
        drain(session)
        assert receiver.requests == 1, "a disabled endpoint gets nothing more"
        assert session.scalars(select(Notification.kind).where(Notification.user_id == admin.id)).all() == [
            "webhook_disabled"]

    def test_five_days_of_failures_disable_and_tell_the_admins(
        self, api: Any, admin_headers: dict[str, str], receiver: Receiver, factory: Any, admin: Any, session: Session,
        clock: Clock,
    ) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        receiver.status = 500
        for _day in range(4):
            factory.account()
            run_for(session, clock, hours=24, step_minutes=60)
        row = stored(session, endpoint)
        assert row is not None and row.enabled, "four days of failures are not enough"
        factory.account()
        run_for(session, clock, hours=30, step_minutes=60)
        session.expire_all()
        row = stored(session, endpoint)
        assert row is not None and not row.enabled and "failed" in (row.disabled_reason or "")
        [note] = session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
        assert note.kind == "webhook_disabled" and note.link == f"/settings/webhooks/{endpoint['id']}"
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "webhook_endpoint.disabled")).all()
        requests = receiver.requests
        factory.account()
        run_for(session, clock, hours=24, step_minutes=240)
        assert receiver.requests == requests

        enabled = api.patch(f"/api/v1/webhooks/{endpoint['id']}", headers=admin_headers, json={"enabled": True}).json()
        assert enabled["enabled"] and enabled["disabled_reason"] is None and enabled["failing_since"] is None


class TestRefusedAddresses:
    def test_an_internal_address_is_never_contacted(self, api: Any, admin_headers: dict[str, str], receiver: Receiver,
                                                     factory: Any, session: Session, monkeypatch: Any) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", "")  # the operator takes the permission back
        get_settings.cache_clear()
        factory.account()
        drain(session)
        assert receiver.connections == 0 and receiver.requests == 0
        attempts = api.get(f"/api/v1/webhooks/{endpoint['id']}/attempts", headers=admin_headers,
                           params={"outcome": "refused"}).json()
        assert len(attempts) == 1 and "loopback" in attempts[0]["error"] and attempts[0]["response_status"] is None
        messages = api.get(f"/api/v1/webhooks/{endpoint['id']}/messages", headers=admin_headers).json()
        assert [m["status"] for m in messages] == ["failed"]


class TestReplay:
    def test_a_replay_keeps_the_webhook_id(self, api: Any, admin_headers: dict[str, str], receiver: Receiver,
                                           factory: Any, session: Session) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        factory.account()
        drain(session)
        [message] = api.get(f"/api/v1/webhooks/{endpoint['id']}/messages", headers=admin_headers).json()
        replayed = api.post(f"/api/v1/webhooks/{endpoint['id']}/messages/{message['id']}/replay", headers=admin_headers)
        assert replayed.status_code == 202 and replayed.json()["webhook_id"] == message["webhook_id"]
        drain(session)
        window = {"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        assert api.post(f"/api/v1/webhooks/{endpoint['id']}/replay", headers=admin_headers,
                        json=window).json() == {"replayed": 1}
        drain(session)
        assert receiver.seen == {message["webhook_id"]: 3}
        detail = api.get(f"/api/v1/webhooks/{endpoint['id']}/messages/{message['id']}", headers=admin_headers).json()
        assert [a["outcome"] for a in detail["attempts_made"]] == ["delivered"] * 3
        assert {a["request_headers"]["webhook-id"] for a in detail["attempts_made"]} == {message["webhook_id"]}
        assert detail["body"].startswith('{"type":"account.created"')

    def test_a_ping_is_logged_with_its_request_and_answer(self, api: Any, admin_headers: dict[str, str],
                                                           receiver: Receiver, session: Session) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        queued = api.post(f"/api/v1/webhooks/{endpoint['id']}/ping", headers=admin_headers).json()
        drain(session)
        [delivered] = receiver.accepted
        assert delivered.payload["type"] == "webhook.ping" and delivered.webhook_id == queued["webhook_id"]
        [attempt] = api.get(f"/api/v1/webhooks/{endpoint['id']}/attempts", headers=admin_headers).json()
        assert attempt["response_status"] == 200 and attempt["response_body"] == '{"ok":true}'
        assert attempt["request_headers"]["webhook-id"] == queued["webhook_id"] and attempt["duration_ms"] >= 0
        assert api.get(f"/api/v1/webhooks/{endpoint['id']}/messages", headers=admin_headers,
                       params={"status": "failed"}).json() == []


class TestOrdering:
    def test_a_records_later_event_waits_for_the_earlier_one(
        self, api: Any, admin_headers: dict[str, str], receiver: Receiver, factory: Any, session: Session, clock: Clock,
    ) -> None:
        subscribe(api, admin_headers, receiver, ordered=True)
        first = factory.account(name="First")
        receiver.fail_once_for_record = str(first.id)  # the first attempt of its creation fails
        rename(session, first, "First, renamed")
        rename(session, first, "First, renamed again")
        second = factory.account(name="Second")
        drain(session)
        arrived = [(d.payload["type"], d.payload["data"]["record_id"]) for d in receiver.accepted]
        assert arrived == [("account.created", str(second.id))], "the first record's events wait behind its failure"
        clock.advance(seconds=10)
        drain(session)
        names = [d.payload["data"]["changes"]["name"][1] for d in receiver.accepted
                 if d.payload["data"]["record_id"] == str(first.id)]
        assert names == ["First", "First, renamed", "First, renamed again"]
