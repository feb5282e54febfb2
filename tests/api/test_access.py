"""Walks every API route as a rep of another team: owned records are never returned
(404 on reads, 403 or 404 on writes), reference data may be read but not changed."""

import re
import uuid

import pytest

from pipewise.auth.service import token_service
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.service import custom_field_service, task_service
from pipewise.quotes.service import product_service

OWNED = {"accounts", "contacts", "leads", "deals", "activities", "tasks"}
REFERENCE = {"products", "pipelines", "stages", "custom-fields", "users", "teams"}
SECRET_TEXT = {"Alice Corp", "Secret call", "Alice's task"}


@pytest.fixture
def world(factory, session):
    team_a, team_b = factory.team("East"), factory.team("West")
    alice = factory.user(role="rep", team=team_a)
    bob = factory.user(role="rep", team=team_b)
    admin = factory.user(role="admin")
    pipeline, stages = factory.pipeline()
    account = factory.account(owner=alice, name="Alice Corp")
    contact = factory.contact(owner=alice, account_id=account.id)
    lead = factory.lead(owner=alice)
    deal = factory.deal(owner=alice, account_id=account.id)
    activity = factory.activity(owner=alice, contact_id=contact.id, subject="Secret call")
    task = task_service.create(session, data={"title": "Alice's task"}, actor=factory.actor(alice))
    product = product_service.create(session, data={"sku": "P1", "name": "Seat", "price": 10}, actor=SYSTEM_ACTOR)
    field = custom_field_service.create(
        session, data={"record_type": "deal", "key": "tier", "label": "Tier", "field_type": "text"}, actor=SYSTEM_ACTOR
    )
    token, _ = token_service.create(session, user=alice)
    session.flush()
    owned = {
        "accounts": account.id,
        "contacts": contact.id,
        "leads": lead.id,
        "deals": deal.id,
        "activities": activity.id,
        "tasks": task.id,
    }
    reference = {
        "products": product.id,
        "pipelines": pipeline.id,
        "stages": stages[0].id,
        "users": alice.id,
        "teams": team_a.id,
        "custom-fields": field.id,
    }
    ids = {"token_id": token.id, "contact_id": contact.id, "deal_id": deal.id, "lead_id": lead.id, "task_id": task.id}
    session.commit()
    return {"bob": factory.headers(bob), "alice_headers": factory.headers(alice), "owned": owned, "reference": reference, "ids": ids, "admin": admin}


def api_routes(app):
    """Every operation of the API, from its OpenAPI document (which lists them all)."""
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/v1/"):
            for method in operations:
                yield method.upper(), path


def fill(path: str, world) -> tuple[str, str]:
    """Put alice's record ids into the path; return (url, resource)."""
    resource = path.split("/")[3]
    params = re.findall(r"{(\w+)}", path)
    url = path
    for name in params:
        if name == "plural":
            value = "deals"
            resource = "deals"
        elif name == "record_id":
            value = world["owned"].get(resource) or world["reference"].get(resource) or uuid.uuid4()
        else:
            value = world["ids"].get(name, uuid.uuid4())
        url = url.replace("{" + name + "}", str(value))
    return url, resource


def test_a_rep_of_another_team_never_reaches_the_records(api, world):
    bob = world["bob"]
    secret_ids = {str(v) for v in world["owned"].values()}
    checked = 0
    for method, path in api_routes(api.app):
        url, resource = fill(path, world)
        response = api.request(method, url, headers=bob, json={} if method in ("POST", "PATCH") else None)
        text = response.text
        if resource in OWNED:
            if "{" in path:
                assert response.status_code in (403, 404, 422), f"{method} {path} -> {response.status_code} {text}"
                assert response.status_code != 422 or method in ("POST", "PATCH"), f"{method} {path}"
            # An error may echo the id that was asked for; a success must not contain it.
            leaked = SECRET_TEXT | (secret_ids if response.status_code < 300 else set())
            assert not any(s in text for s in leaked), f"{method} {path} leaked a record: {text[:300]}"
        elif resource in REFERENCE and method in ("PATCH", "DELETE", "POST") and "{" in path:
            assert response.status_code in (403, 422), f"{method} {path} -> {response.status_code}"
        assert response.status_code < 500, f"{method} {path} -> {response.status_code} {text}"
        checked += 1
    assert checked > 50


def test_bodies_that_would_pass_validation_are_still_refused(api, world):
    """The 422s above must not hide a missing check: with valid bodies the answer is 403/404."""
    bob, owned, ids = world["bob"], world["owned"], world["ids"]
    valid_updates = {
        "accounts": {"name": "Mine now"},
        "contacts": {"last_name": "Mine"},
        "leads": {"last_name": "Mine"},
        "deals": {"name": "Mine"},
        "activities": {"subject": "Mine"},
        "tasks": {"title": "Mine"},
    }
    for resource, body in valid_updates.items():
        r = api.patch(f"/api/v1/{resource}/{owned[resource]}", json=body, headers=bob)
        assert r.status_code == 404, (resource, r.status_code)
    assert api.post(f"/api/v1/deals/{ids['deal_id']}/move", json={"stage_id": str(uuid.uuid4())}, headers=bob).status_code == 404
    assert api.post(f"/api/v1/leads/{ids['lead_id']}/convert", json={}, headers=bob).status_code == 404
    r = api.post(f"/api/v1/deals/{ids['deal_id']}/contacts", json={"contact_id": str(ids["contact_id"])}, headers=bob)
    assert r.status_code == 404
    # Creating a record that points at another team's account is refused too.
    r = api.post("/api/v1/contacts", json={"last_name": "X", "account_id": str(owned["accounts"])}, headers=bob)
    assert r.status_code == 422
    assert api.delete(f"/api/v1/me/tokens/{ids['token_id']}", headers=bob).status_code == 404


def test_teammates_and_admins_do_reach_them(api, world, factory, session):
    alice = world["alice_headers"]
    for resource, record_id in world["owned"].items():
        assert api.get(f"/api/v1/{resource}/{record_id}", headers=alice).status_code == 200, resource
    admin = factory.headers(world["admin"])
    listed = api.get("/api/v1/contacts", headers=admin).json()["items"]
    assert [c["id"] for c in listed] == [str(world["owned"]["contacts"])]


def test_open_read_access_lets_reps_read_but_not_change(api, world, monkeypatch):
    from pipewise.config import get_settings

    monkeypatch.setattr(get_settings(), "open_read_access", True)
    bob, account_id = world["bob"], world["owned"]["accounts"]
    assert api.get(f"/api/v1/accounts/{account_id}", headers=bob).status_code == 200
    assert api.patch(f"/api/v1/accounts/{account_id}", json={"name": "Mine"}, headers=bob).status_code == 403
    assert api.delete(f"/api/v1/accounts/{account_id}", headers=bob).status_code == 403
