"""Managing endpoints through the API: who may, what is checked, what is audited."""

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.audit.models import AuditEntry
from tests.integrations.webhooks.conftest import subscribe
from tests.integrations.webhooks.receiver import Receiver

BAD_FIELDS = [
    ({"url": "ftp://example.com/x"}, "url", "http"),
    ({"url": "https://user:pw@example.com/x"}, "url", "password"),
    ({"url": "http://10.0.0.7/hook"}, "url", "private"),
    ({"url": "http://localhost:8000/hook"}, "url", "this machine"),
    ({"event_types": ["deal.*.created"]}, "event_types", "not an event type"),
    ({"event_types": ["Deal Created"]}, "event_types", "not an event type"),
    ({"event_types": []}, "event_types", "at least one"),
    ({"description": "x" * 501}, "description", "500"),
]


def audit_actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("webhook_endpoint.%"))
                                .order_by(AuditEntry.id)))


class TestCreate:
    def test_the_secret_is_shown_once(self, api: Any, admin_headers: dict[str, str], receiver: Receiver) -> None:
        endpoint = subscribe(api, admin_headers, receiver, description="Warehouse", ordered=True)
        assert endpoint["secret"].startswith("whsec_") and endpoint["ordered"] is True
        read = api.get(f"/api/v1/webhooks/{endpoint['id']}", headers=admin_headers)
        assert read.status_code == 200 and "secret" not in read.json()
        assert endpoint["secret"] not in api.get("/api/v1/webhooks", headers=admin_headers).text

    @pytest.mark.parametrize(("change", "field", "words"), BAD_FIELDS)
    def test_bad_fields_are_named(self, api: Any, admin_headers: dict[str, str], session: Session, change: dict[str, Any],
                                  field: str, words: str) -> None:
        body = {"url": "https://hooks.example.com/in", "event_types": ["deal.*"], **change}
        response = api.post("/api/v1/webhooks", headers=admin_headers, json=body)
        assert response.status_code == 422, response.text
        [error] = [e for e in response.json()["errors"] if field in e["field"]]
        assert words in error["message"]
        assert api.get("/api/v1/webhooks", headers=admin_headers).json() == []

    def test_only_admins_manage_endpoints(self, api: Any, factory: Any, session: Session) -> None:
        manager = factory.user(role="manager")
        session.commit()
        response = api.post("/api/v1/webhooks", headers=factory.headers(manager),
                            json={"url": "https://hooks.example.com/in", "event_types": ["*"]})
        assert response.status_code == 403
        assert api.get("/api/v1/webhooks", headers=factory.headers(manager)).status_code == 403


class TestChanges:
    def test_every_change_is_audited(self, api: Any, admin_headers: dict[str, str], receiver: Receiver,
                                     session: Session) -> None:
        endpoint = subscribe(api, admin_headers, receiver)
        item = f"/api/v1/webhooks/{endpoint['id']}"
        patched = api.patch(item, headers=admin_headers, json={"event_types": ["deal.*", "*"], "enabled": False})
        assert patched.status_code == 200 and patched.json()["event_types"] == ["deal.*", "*"]
        assert api.patch(item, headers=admin_headers, json={"event_types": ["no such"]}).status_code == 422
        rotated = api.post(item + "/rotate-secret", headers=admin_headers)
        assert rotated.status_code == 200 and rotated.json()["secret"] != endpoint["secret"]
        assert api.post(item + "/ping", headers=admin_headers).status_code == 202
        assert api.patch(item, headers=admin_headers, json={"enabled": True}).status_code == 200
        window = {"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        assert api.post(item + "/replay", headers=admin_headers, json=window).json() == {"replayed": 1}
        bad_window = api.post(item + "/replay", headers=admin_headers, json={**window, "until": window["since"]})
        assert bad_window.status_code == 422 and bad_window.json()["errors"][0]["field"] == "until"
        assert api.delete(item, headers=admin_headers).status_code == 204
        assert api.get(item, headers=admin_headers).status_code == 404
        assert audit_actions(session) == [
            "webhook_endpoint.created", "webhook_endpoint.updated", "webhook_endpoint.rotated", "webhook_endpoint.pinged",
            "webhook_endpoint.updated", "webhook_endpoint.replayed", "webhook_endpoint.deleted",
        ]
        entries = session.scalars(select(AuditEntry.details).where(AuditEntry.action.like("webhook_endpoint.%"))).all()
        assert not any(endpoint["secret"] in str(details) or rotated.json()["secret"] in str(details) for details in entries)

    def test_a_disabled_endpoint_is_not_replayed_to(self, api: Any, admin_headers: dict[str, str],
                                                     receiver: Receiver) -> None:
        endpoint = subscribe(api, admin_headers, receiver, enabled=False)
        window = {"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        response = api.post(f"/api/v1/webhooks/{endpoint['id']}/replay", headers=admin_headers, json=window)
        assert response.status_code == 409
