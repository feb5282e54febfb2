"""The API's request path: the caller is resolved afresh on every request (revocation and
deactivation apply at once, even when made by another process), with the teams they act
for; reference data kept by the process follows this process's own changes at once and
another's within its few seconds."""

import time
import uuid

import pytest
from sqlalchemy import func, select, text, update

from pipewise.auth.models import ApiToken, User
from pipewise.crm.models import Contact
from pipewise.db.base import utcnow
from pipewise.db.session import get_engine
from pipewise.records import custom_fields


def behind_the_orm(statement) -> None:  # type: ignore[no-untyped-def]
    """Write as another process would: its own connection, committed at once."""
    with get_engine().begin() as connection:
        connection.execute(statement)


@pytest.fixture
def rep(factory, session):  # type: ignore[no-untyped-def]
    user = factory.user(role="rep", team=factory.team("East"))
    session.commit()
    return user


class TestTheCaller:
    def test_a_token_revoked_elsewhere_is_refused_at_once(self, api, factory, session, rep):
        headers = factory.headers(rep)
        assert api.get("/api/v1/contacts", headers=headers).status_code == 200

        behind_the_orm(update(ApiToken).values(revoked_at=utcnow()))

        refused = api.get("/api/v1/contacts", headers=headers)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]

    def test_a_user_deactivated_elsewhere_is_refused_at_once(self, api, factory, session, rep):
        headers = factory.headers(rep)
        assert api.post("/api/v1/contacts", json={"last_name": "Before"}, headers=headers).status_code == 201

        behind_the_orm(update(User).where(User.id == rep.id).values(is_active=False))

        assert api.post("/api/v1/contacts", json={"last_name": "After"}, headers=headers).status_code == 401

    def test_a_manager_acts_for_the_teams_they_manage(self, api, factory, session):
        managed = factory.team("West")
        manager = factory.user(role="manager", team=factory.team("Managers"))
        managed.manager_id = manager.id
        west_rep = factory.user(role="rep", team=managed)
        outsider = factory.user(role="rep", team=factory.team("North"))
        factory.contact(owner=west_rep, last_name="Managed")
        factory.contact(owner=outsider, last_name="Elsewhere")
        session.commit()

        listed = api.get("/api/v1/contacts", headers=factory.headers(manager)).json()["items"]

        assert [c["last_name"] for c in listed] == ["Managed"]

    def test_without_a_token_nothing_is_written(self, api, session):
        for headers in ({}, {"Authorization": "Bearer pw_unknown"}, {"Authorization": "Basic abc"}):
            assert api.post("/api/v1/contacts", json={"last_name": "X"}, headers=headers).status_code == 401
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


class TestProcessCache:
    def test_a_field_defined_here_applies_to_the_next_write(self, api, factory, session, rep):
        headers = factory.headers(rep)
        assert api.post("/api/v1/contacts", json={"last_name": "A"}, headers=headers).status_code == 201
        admin = factory.headers(factory.user(role="admin"))
        session.commit()
        definition = {"record_type": "contact", "key": "tier", "label": "Tier", "field_type": "text", "required": True}
        assert api.post("/api/v1/custom-fields", json=definition, headers=admin).status_code == 201

        missing = api.post("/api/v1/contacts", json={"last_name": "B"}, headers=headers)

        assert missing.status_code == 422
        assert {e["field"] for e in missing.json()["errors"]} == {"custom.tier"}

    def test_a_field_defined_elsewhere_applies_within_the_cache_lifetime(self, session, monkeypatch):
        monkeypatch.setattr(custom_fields._rules, "ttl", 0.2)
        assert custom_fields.rules(session, "contact") == {}
        session.rollback()
        behind_the_orm(
            text(
                "INSERT INTO custom_field (id, record_type, key, label, field_type, choices, required, created_at, "
                "updated_at, version) VALUES (:id, 'contact', 'tier', 'Tier', 'text', '[]', false, :now, :now, 1)"
            ).bindparams(id=_uuid_value(), now=utcnow())
        )

        assert custom_fields.rules(session, "contact") == {}  # still the kept answer
        time.sleep(0.25)
        assert set(custom_fields.rules(session, "contact")) == {"tier"}


def _uuid_value() -> object:
    value = uuid.uuid4()
    return value.hex if get_engine().dialect.name == "sqlite" else value


class TestTheSession:
    def test_every_request_closes_its_session_after_its_response_is_made(self, api, factory, session, rep, monkeypatch):
        from pipewise.api import deps

        made, closed = [], []
        factory_of = deps.get_sessionmaker

        def recording():  # type: ignore[no-untyped-def]
            def new_session():  # type: ignore[no-untyped-def]
                opened = factory_of()()
                made.append(opened)
                close = opened.close
                opened.close = lambda: (closed.append(opened), close())[1]  # type: ignore[method-assign]
                return opened
            return new_session

        monkeypatch.setattr(deps, "get_sessionmaker", recording)
        headers = factory.headers(rep)
        created = api.post("/api/v1/contacts", json={"last_name": "Closed"}, headers=headers)
        assert created.status_code == 201 and created.json()["last_name"] == "Closed"
        assert api.get("/api/v1/contacts", headers=headers).status_code == 200
        assert api.post("/api/v1/contacts", json={"email": "not an address"}, headers=headers).status_code == 422
        assert api.get("/api/v1/contacts", headers={"Authorization": "Bearer unknown"}).status_code == 401
        assert len(made) == 4 and closed == made
