"""POST /api/v1/<type>/bulk through HTTP: per-item results, all-or-nothing rollback,
idempotent retries, and the same rules as one POST or PATCH at a time."""

import uuid

import pytest
from sqlalchemy import func, select

from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.events.models import OutboxEvent
from pipewise.quotes.models import Product
from pipewise.records.models import RecordHistory
from tests.api.test_assignment_rights import OUTSIDE
from tests.api.test_records import field_errors

BULK = "/api/v1/contacts/bulk"


@pytest.fixture
def headers(factory, session):
    """An admin's bearer token."""
    admin = factory.user(role="admin")
    session.commit()
    return factory.headers(admin)


def counts(session) -> tuple[int, int, int]:
    """Contacts, and the history and outbox rows of contacts, in the database."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Contact)),
        session.scalar(select(func.count()).where(RecordHistory.record_type == "contact")),
        session.scalar(select(func.count()).where(OutboxEvent.record_type == "contact")),
    )


def bulk(api, headers, items, mode="all_or_nothing", path=BULK, **kw):
    return api.post(path, json={"mode": mode, "items": items}, headers=headers, **kw)


def item_errors(result) -> dict[str, str]:
    return {e["field"]: e["message"] for e in result["errors"]}


class TestAllOrNothing:
    def test_every_item_is_created_with_its_history_and_event(self, api, headers, session):
        items = [{"last_name": f"Person {n}", "email": f"P{n}@Example.com", "phone": "(202) 555-0143"} for n in range(3)]
        r = bulk(api, headers, items)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["mode"], body["created"], body["updated"], body["failed"]) == ("all_or_nothing", 3, 0, 0)
        assert [i["index"] for i in body["items"]] == [0, 1, 2]
        assert {i["status"] for i in body["items"]} == {201}
        assert [i["record"]["email"] for i in body["items"]] == [f"p{n}@example.com" for n in range(3)]
        assert body["items"][0]["record"]["phone"] == "+12025550143"
        ids = [uuid.UUID(i["id"]) for i in body["items"]]
        assert [i["record"]["id"] for i in body["items"]] == [str(i) for i in ids]
        assert counts(session) == (3, 3, 3)
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.record_type == "contact").order_by(OutboxEvent.id)).all()
        assert [(e.name, e.record_id) for e in events] == [("contact.created", i) for i in ids]
        history = session.scalars(select(RecordHistory).where(RecordHistory.record_id == ids[1])).one()
        assert (history.action, history.changes["last_name"]) == ("created", [None, "Person 1"])

    def test_one_bad_item_writes_nothing_and_every_failure_is_listed(self, api, headers, session):
        api.post("/api/v1/contacts", json={"last_name": "Already here"}, headers=headers)
        before = counts(session)
        items = [
            {"last_name": "Good"},
            {"last_name": "Bad", "email": "not-an-email", "phone": "12"},
            {"last_name": "Good too"},
            {"first_name": "No last name", "nickname": "x"},
            "not an object",
        ]
        r = bulk(api, headers, items)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["detail"] == "3 of 5 items failed; nothing was written"
        assert (problem["created"], problem["failed"]) == (0, 3)
        assert [(i["index"], i["status"]) for i in problem["items"]] == [(1, 422), (3, 422), (4, 422)]
        assert set(item_errors(problem["items"][0])) == {"email", "phone"}
        assert item_errors(problem["items"][1]) == {"last_name": "is required", "nickname": "is not a known field"}
        assert set(field_errors(r)) == {"items.1.email", "items.1.phone", "items.3.last_name", "items.3.nickname", "items.4"}
        assert counts(session) == before

    def test_a_duplicate_found_by_the_database_is_reported_and_nothing_written(self, api, headers, session):
        assert api.post("/api/v1/products", json={"sku": "S-1", "name": "Seat", "price": "1"}, headers=headers).status_code == 201
        items = [
            {"sku": "S-2", "name": "New", "price": "2"},
            {"sku": "S-1", "name": "Taken", "price": "3"},
            {"sku": "S-3", "name": "Fine", "price": "4", "kind": "bogus"},
            {"sku": "S-2", "name": "Twice in one request", "price": "5"},
        ]
        r = bulk(api, headers, items, path="/api/v1/products/bulk")
        assert r.status_code == 422, r.text
        assert [(i["index"], i["status"]) for i in r.json()["items"]] == [(1, 409), (2, 422), (3, 409)]
        assert "conflicts" in r.json()["items"][0]["detail"]
        assert session.scalar(select(func.count()).select_from(Product)) == 1

    def test_a_failing_request_does_not_burn_its_idempotency_key(self, api, headers, session):
        h = {**headers, "Idempotency-Key": "bulk-fix-and-retry"}
        assert bulk(api, h, [{"last_name": "X", "email": "bad"}]).status_code == 422
        r = bulk(api, h, [{"last_name": "X", "email": "x@example.com"}])
        assert r.status_code == 200, r.text
        assert counts(session)[0] == 1


class TestPerItem:
    def test_good_items_are_kept_and_bad_ones_reported_in_order(self, api, headers, session):
        items = [
            {"last_name": "One"},
            {"last_name": "Two", "email": "broken"},
            {"last_name": "Three", "lifecycle_stage": "happy"},
            {"last_name": "Four", "account_id": str(uuid.uuid4())},
            {"last_name": "Five"},
        ]
        r = bulk(api, headers, items, mode="per_item")
        assert r.status_code == 207, r.text
        body = r.json()
        assert (body["created"], body["failed"]) == (2, 3)
        assert [(i["index"], i["status"]) for i in body["items"]] == [(0, 201), (1, 422), (2, 422), (3, 422), (4, 201)]
        assert list(item_errors(body["items"][1])) == ["email"]
        assert "one of" in item_errors(body["items"][2])["lifecycle_stage"]
        assert item_errors(body["items"][3])["account_id"].startswith("no account with id")
        assert body["items"][1]["id"] is None and "record" not in body["items"][1]
        assert counts(session) == (2, 2, 2)
        names = {c.last_name for c in session.scalars(select(Contact))}
        assert names == {"One", "Five"}

    def test_failures_far_apart_leave_every_other_item_written(self, api, headers, session):
        bad = {7, 60, 119}  # items are tried in groups; a group with a failure runs again item by item
        items = [{"last_name": f"N{n}", "email": "broken" if n in bad else f"n{n}@example.com"} for n in range(120)]
        body = bulk(api, headers, items, mode="per_item").json()
        assert [i["index"] for i in body["items"]] == list(range(120))
        assert {i["index"] for i in body["items"] if i["status"] == 422} == bad
        assert (body["created"], body["failed"]) == (117, 3)
        assert counts(session) == (117, 117, 117)
        assert {i["record"]["email"] for i in body["items"] if i["status"] == 201} == {
            c.email for c in session.scalars(select(Contact))}

    def test_a_duplicate_fails_alone(self, api, headers, session):
        items = [{"sku": "A", "name": "A", "price": "1"}, {"sku": "A", "name": "Again", "price": "1"},
                 {"sku": "B", "name": "B", "price": "1"}]
        r = bulk(api, headers, items, mode="per_item", path="/api/v1/products/bulk")
        assert [i["status"] for i in r.json()["items"]] == [201, 409, 201]
        assert session.scalar(select(func.count()).select_from(Product)) == 2


class TestUpdates:
    def test_items_with_an_id_change_records_and_honour_their_version(self, api, headers, session):
        created = [api.post("/api/v1/contacts", json={"last_name": n, "title": "Old"}, headers=headers).json()
                   for n in ("A", "B", "C")]
        items = [
            {"id": created[0]["id"], "title": "New"},
            {"id": created[1]["id"], "version": created[1]["version"], "title": "New"},
            {"id": created[2]["id"], "version": created[2]["version"] + 5, "title": "New"},
            {"id": str(uuid.uuid4()), "title": "New"},
            {"last_name": "D"},
        ]
        r = bulk(api, headers, items, mode="per_item")
        body = r.json()
        assert [i["status"] for i in body["items"]] == [200, 200, 412, 404, 201]
        assert (body["created"], body["updated"], body["failed"]) == (1, 2, 2)
        assert body["items"][1]["record"]["version"] == created[1]["version"] + 1
        assert body["items"][2]["id"] == created[2]["id"]
        assert "version" in body["items"][2]["detail"]
        history = api.get(f"/api/v1/contacts/{created[0]['id']}/history", headers=headers).json()
        assert history[0]["changes"] == {"title": ["Old", "New"]}
        assert api.get(f"/api/v1/contacts/{created[2]['id']}", headers=headers).json()["title"] == "Old"


class TestLimits:
    @pytest.mark.parametrize(
        ("items", "message"),
        [([{"last_name": "X"}] * 1001, "at most 1000 items per request; this one has 1001"), ([], "at least one item")],
    )
    def test_item_count(self, api, headers, session, items, message):
        r = bulk(api, headers, items)
        assert r.status_code == 422, r.text
        assert message in field_errors(r)["items"]
        assert counts(session)[0] == 0

    def test_a_thousand_items_are_taken(self, api, headers, session):
        r = bulk(api, headers, [{"last_name": f"N{n}", "email": f"n{n}@example.com"} for n in range(1000)])
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 1000
        assert counts(session) == (1000, 1000, 1000)

    def test_unknown_mode_and_fields_are_refused(self, api, headers):
        assert "mode" in field_errors(bulk(api, headers, [{"last_name": "X"}], mode="some"))
        r = api.post(BULK, json={"items": [{"last_name": "X"}], "dry_run": True}, headers=headers)
        assert field_errors(r) == {"dry_run": "is not a known field"}

    def test_bulk_routes_take_bodies_past_the_single_limit(self, api, headers, session, monkeypatch):
        monkeypatch.setattr(get_settings(), "max_body_bytes", 20_000)
        monkeypatch.setattr(get_settings(), "max_bulk_bytes", 60_000)
        items = [{"last_name": f"Person {n}", "title": "t" * 100} for n in range(200)]  # about 30 kB
        assert api.post("/api/v1/contacts", json={"last_name": "x" * 30_000}, headers=headers).status_code == 413
        assert bulk(api, headers, items).status_code == 200
        assert bulk(api, headers, items * 3).status_code == 413
        assert counts(session)[0] == 200

    def test_a_role_that_may_not_create_the_type_is_refused_once(self, api, factory, session):
        rep = factory.user(role="rep")
        session.commit()
        r = bulk(api, factory.headers(rep), [{"sku": "S", "name": "S", "price": "1"}] * 3, path="/api/v1/products/bulk")
        assert r.status_code == 403
        assert r.json()["detail"] == "only admin or manager users may create products"


class TestIdempotency:
    def test_a_retry_replays_the_answer_and_writes_once(self, api, headers, session):
        h = {**headers, "Idempotency-Key": "bulk-1"}
        items = [{"last_name": "Once"}, {"last_name": "Bad", "email": "x"}]
        first = bulk(api, h, items, mode="per_item")
        second = bulk(api, h, items, mode="per_item")
        assert first.status_code == second.status_code == 207
        assert first.json() == second.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert counts(session) == (1, 1, 1)

    def test_the_key_with_other_items_is_refused(self, api, headers):
        h = {**headers, "Idempotency-Key": "bulk-2"}
        assert bulk(api, h, [{"last_name": "One"}]).status_code == 200
        r = bulk(api, h, [{"last_name": "Two"}])
        assert r.status_code == 422
        assert "Idempotency-Key" in field_errors(r)


class TestRules:
    @pytest.fixture
    def people(self, factory, session):
        home, elsewhere = factory.team("Home"), factory.team("Elsewhere")
        people = {"rep": factory.user(team=home), "teammate": factory.user(team=home), "stranger": factory.user(team=elsewhere)}
        session.commit()
        return people

    def test_a_rep_gets_what_a_single_post_gets(self, api, factory, session, people):
        factory.pipeline()
        foreign_account = factory.account(people["stranger"])
        foreign_contact = factory.contact(people["stranger"])
        session.commit()
        h = factory.headers(people["rep"])
        items = [
            {"name": "Mine"},
            {"name": "Teammate's", "owner_id": str(people["teammate"].id)},
            {"name": "Stranger's", "owner_id": str(people["stranger"].id)},
            {"name": "At their account", "account_id": str(foreign_account.id)},
        ]
        r = bulk(api, h, items, mode="per_item", path="/api/v1/deals/bulk")
        results = r.json()["items"]
        assert [i["status"] for i in results] == [201, 201, 422, 422]
        assert item_errors(results[2]) == {"owner_id": OUTSIDE}
        for item, result in zip(items, results, strict=True):
            single = api.post("/api/v1/deals", json=item, headers=h)
            assert single.status_code == result["status"]
            if single.status_code >= 400:
                assert (single.json()["detail"], field_errors(single)) == (result["detail"], item_errors(result))
        hidden = bulk(api, h, [{"id": str(foreign_contact.id), "title": "Mine now"}], mode="per_item").json()["items"][0]
        missing = bulk(api, h, [{"id": str(uuid.uuid4()), "title": "Mine now"}], mode="per_item").json()["items"][0]
        assert (hidden["status"], missing["status"]) == (404, 404)
        assert hidden["detail"].replace(str(foreign_contact.id), "?") == missing["detail"].replace(missing["id"], "?")
        assert r.json()["items"][0]["record"]["owner_id"] == str(people["rep"].id)

    def test_custom_fields_are_checked_per_item(self, api, headers, session):
        for definition in (
            {"record_type": "contact", "key": "tier", "label": "Tier", "field_type": "choice", "choices": ["gold", "silver"]},
            {"record_type": "contact", "key": "region", "label": "Region", "field_type": "text", "required": True},
        ):
            assert api.post("/api/v1/custom-fields", json=definition, headers=headers).status_code == 201
        items = [
            {"last_name": "A", "custom": {"tier": "gold", "region": "EMEA"}},
            {"last_name": "B", "custom": {"tier": "bronze", "region": "EMEA"}},
            {"last_name": "C", "custom": {"tier": "silver"}},
            {"last_name": "D", "custom": {"region": "APAC", "colour": "red"}},
        ]
        results = bulk(api, headers, items, mode="per_item").json()["items"]
        assert [i["status"] for i in results] == [201, 422, 422, 422]
        assert results[0]["record"]["custom"] == {"tier": "gold", "region": "EMEA"}
        assert list(item_errors(results[1])) == ["custom.tier"]
        assert item_errors(results[2]) == {"custom.region": "is required"}
        assert list(item_errors(results[3])) == ["custom.colour"]

    def test_leads_are_created_like_single_ones(self, api, headers, session):
        items = [{"last_name": f"Lead {n}", "email": f"lead{n}@company{n}.example", "company": f"Co {n}"} for n in range(3)]
        r = bulk(api, headers, items, path="/api/v1/leads/bulk")
        assert r.status_code == 200, r.text
        ids = {uuid.UUID(i["id"]) for i in r.json()["items"]}
        names = session.scalars(select(OutboxEvent.name).where(OutboxEvent.record_id.in_(ids))).all()
        assert names.count("lead.created") == 3
        assert all(i["record"]["domain"] == f"company{n}.example" for n, i in enumerate(r.json()["items"]))

    def test_leads_of_one_request_find_their_account_and_each_other_by_address(self, api, headers, session, factory):
        """Each lead's account and its same-address duplicates come from one read: a lead
        refused in per-item mode leaves nothing that a later lead of the request could take."""
        account = factory.account(name="Engines", domain="engines.example")
        session.commit()
        items = [
            {"last_name": "Lovelace", "email": "ada@engines.example", "status": "no such status"},
            {"last_name": "Lovelace", "email": "ada@engines.example"},
            {"last_name": "Byron", "email": "ada@engines.example"},
            {"last_name": "Babbage", "email": "charles@gmail.com"},
        ]
        r = bulk(api, headers, items, mode="per_item", path="/api/v1/leads/bulk")
        assert r.status_code == 207, r.text
        results = r.json()["items"]
        assert [x["status"] for x in results] == [422, 201, 201, 201]
        first, second, third = (item["record"] for item in results[1:])
        assert first["account_id"] == second["account_id"] == str(account.id) and third["account_id"] is None
        pairs = {(p["candidate_id"], p["reason"]) for p in api.get(f"/api/v1/leads/{second['id']}/duplicates", headers=headers).json()}
        assert pairs == {(first["id"], "same e-mail address")}
        assert [p["record_id"] for p in api.get(f"/api/v1/leads/{first['id']}/duplicates", headers=headers).json()] == [second["id"]]
        assert api.get(f"/api/v1/leads/{third['id']}/duplicates", headers=headers).json() == []


def test_openapi_documents_a_bulk_route_per_record_type(api):
    paths = api.get("/api/openapi.json").json()["paths"]
    for plural in ("accounts", "contacts", "leads", "deals", "activities", "tasks", "products", "users", "teams"):
        operation = paths[f"/api/v1/{plural}/bulk"]["post"]
        assert {"200", "207", "422"} <= set(operation["responses"])
