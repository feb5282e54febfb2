"""The CRUD surface shared by every record type, exercised through HTTP."""

import uuid

import pytest
from sqlalchemy import func, select

from pipewise.crm.models import Contact
from pipewise.events.models import OutboxEvent
from pipewise.records.models import RecordHistory


@pytest.fixture
def admin(factory, session):
    user = factory.user(role="admin")
    session.commit()
    return user


@pytest.fixture
def headers(factory, admin):
    return factory.headers(admin)


def field_errors(response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


class TestCreate:
    def test_normalises_and_records_history_and_event(self, api, headers, session):
        r = api.post(
            "/api/v1/contacts",
            json={"first_name": " Grace ", "last_name": "Hopper", "email": "Grace@Navy.MIL", "phone": "(202) 555-0143"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["first_name"], body["email"], body["phone"]) == ("Grace", "grace@navy.mil", "+12025550143")
        contact_id = uuid.UUID(body["id"])
        history = session.scalars(select(RecordHistory).where(RecordHistory.record_id == contact_id)).all()
        assert [h.action for h in history] == ["created"]
        assert history[0].changes["email"] == [None, "grace@navy.mil"]
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.record_id == contact_id)).all()
        assert [e.name for e in events] == ["contact.created"]

    @pytest.mark.parametrize(
        ("payload", "field", "message_part"),
        [
            ({"last_name": "X", "nickname": "y"}, "nickname", "not a known field"),
            ({"first_name": "X"}, "last_name", "required"),
            ({"last_name": "X", "email": "not-an-email"}, "email", "@"),
            ({"last_name": "X", "phone": "12"}, "phone", "phone"),
            ({"last_name": "X", "timezone": "Mars/Olympus"}, "timezone", "time zone"),
            ({"last_name": "X", "account_id": "nope"}, "account_id", "UUID"),
            ({"last_name": "X", "account_id": str(uuid.uuid4())}, "account_id", "no account"),
            ({"last_name": "X", "lifecycle_stage": "happy"}, "lifecycle_stage", "one of"),
            ({"last_name": ["X"]}, "last_name", "string"),
        ],
    )
    def test_bad_input_gets_field_level_422(self, api, headers, session, payload, field, message_part):
        r = api.post("/api/v1/contacts", json=payload, headers=headers)
        assert r.status_code == 422, r.text
        errors = field_errors(r)
        assert field in errors, errors
        assert message_part.lower() in errors[field].lower()
        assert session.scalar(select(func.count()).select_from(Contact)) == 0

    def test_every_error_is_reported_at_once(self, api, headers):
        r = api.post("/api/v1/contacts", json={"last_name": "X", "email": "bad", "phone": "1"}, headers=headers)
        assert set(field_errors(r)) == {"email", "phone"}

    def test_malformed_json_is_a_422_not_a_500(self, api, headers):
        r = api.post("/api/v1/contacts", content=b"{not json", headers={**headers, "content-type": "application/json"})
        assert r.status_code == 422
        assert r.json()["title"] == "Validation failed"

    def test_duplicate_unique_value_is_a_409(self, api, headers):
        product = {"sku": "SKU-1", "name": "Seat", "price": "10.00"}
        assert api.post("/api/v1/products", json=product, headers=headers).status_code == 201
        r = api.post("/api/v1/products", json=product, headers=headers)
        assert r.status_code == 409
        assert r.json()["status"] == 409


class TestAuth:
    def test_missing_and_unknown_tokens_are_401(self, api):
        assert api.get("/api/v1/contacts").status_code == 401
        r = api.get("/api/v1/contacts", headers={"Authorization": "Bearer pw_nope"})
        assert r.status_code == 401
        assert "token" in r.json()["detail"]

    def test_revoked_token_stops_working(self, api, factory, admin, headers):
        created = api.post("/api/v1/me/tokens", json={"name": "script"}, headers=headers).json()
        other = {"Authorization": f"Bearer {created['token']}"}
        assert api.get("/api/v1/me", headers=other).json()["email"] == admin.email
        assert api.delete(f"/api/v1/me/tokens/{created['id']}", headers=headers).status_code == 204
        assert api.get("/api/v1/me", headers=other).status_code == 401


def walk_pages(api, headers, path: str, field: str, *, sort: str, limit: int) -> list:  # type: ignore[no-untyped-def]
    """``field`` of every item of the list at ``path``, following ``next_cursor`` to the end."""
    seen, cursor = [], None
    while True:
        params = {"limit": limit, "sort": sort, **({"cursor": cursor} if cursor else {})}
        page = api.get(path, params=params, headers=headers).json()
        seen += [item[field] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return seen


class TestListing:
    @pytest.fixture
    def accounts(self, api, headers):
        rows = [
            {"name": "Acme Robotics", "domain": "acme.example", "industry": "Manufacturing", "size": 500, "country": "DE"},
            {"name": "Globex", "domain": "globex.example", "industry": "Software", "size": 50, "country": "US"},
            {"name": "Initech", "domain": "initech.example", "industry": "Software", "size": 1200, "country": "US"},
            {"name": "Umbrella", "domain": "umbrella.example", "industry": "Pharma", "country": "GB"},
        ]
        return [api.post("/api/v1/accounts", json=row, headers=headers).json() for row in rows]

    def names(self, response) -> list[str]:
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    def test_filters_with_operators(self, api, headers, accounts):
        get = lambda qs: self.names(api.get(f"/api/v1/accounts?{qs}&sort=name", headers=headers))  # noqa: E731
        assert get("industry=Software") == ["Globex", "Initech"]
        assert get("size__gte=500") == ["Acme Robotics", "Initech"]
        assert get("country__in=DE,GB") == ["Acme Robotics", "Umbrella"]
        assert get("name__contains=TECH") == ["Initech"]
        assert get("size__is_empty=1") == ["Umbrella"]
        assert get("industry__ne=Software") == ["Acme Robotics", "Umbrella"]
        assert get("created_at__within_last_days=1&size__lt=100") == ["Globex"]

    def test_json_filter_tree(self, api, headers, accounts):
        tree = '{"any": [{"field": "country", "value": "GB"}, {"not": {"field": "size", "op": "lt", "value": 1000}}]}'
        r = api.get("/api/v1/accounts", params={"filter": tree, "sort": "name"}, headers=headers)
        assert self.names(r) == ["Initech", "Umbrella"]

    def test_search_on_names_and_domains(self, api, headers, accounts):
        assert self.names(api.get("/api/v1/accounts?q=globex.ex", headers=headers)) == ["Globex"]
        assert self.names(api.get("/api/v1/accounts?q=umbr", headers=headers)) == ["Umbrella"]

    def test_related_record_filter(self, api, headers, accounts):
        initech = next(a for a in accounts if a["name"] == "Initech")
        api.post("/api/v1/contacts", json={"last_name": "Lumbergh", "account_id": initech["id"]}, headers=headers)
        api.post("/api/v1/contacts", json={"last_name": "Nobody"}, headers=headers)
        r = api.get("/api/v1/contacts?account.size__gt=1000", headers=headers)
        assert [c["last_name"] for c in r.json()["items"]] == ["Lumbergh"]

    def test_cursor_pagination_walks_every_row_once(self, api, headers):
        for i in range(23):
            api.post("/api/v1/accounts", json={"name": f"Co {i:02d}", "size": i % 5}, headers=headers)
        for sort in ("name", "-name", "size", "-size", "-created_at"):
            seen = walk_pages(api, headers, "/api/v1/accounts", "name", sort=sort, limit=5)
            assert sorted(seen) == sorted(f"Co {i:02d}" for i in range(23)), sort
            assert len(seen) == len(set(seen))

    def test_a_list_sorted_by_name_ignores_case_and_pages_past_accents(self, api, headers):
        """A name sort reads the lower-case key search indexes: case does not split the
        alphabet, and a cursor taken on a name beyond ASCII goes on where the page ended."""
        names = ["émile", "Zed", "adams", "Émile", "Baker", "ÉMILE", "zeta", "Ávila", "beta"]
        for name in names:
            assert api.post("/api/v1/contacts", json={"last_name": name}, headers=headers).status_code == 201
        for sort in ("last_name", "-last_name"):
            seen = walk_pages(api, headers, "/api/v1/contacts", "last_name", sort=sort, limit=2)
            assert sorted(seen) == sorted(names) and len(seen) == len(names), sort
            ascii_part = [n for n in (seen if sort == "last_name" else reversed(seen)) if n.isascii()]
            assert ascii_part == ["adams", "Baker", "beta", "Zed", "zeta"], sort

    @pytest.mark.parametrize(
        ("qs", "field"),
        [
            ("colour=red", "filter.colour"),
            ("size__gte=big", "filter.size"),
            ("size__wobble=1", "filter.size"),
            ("sort=colour", "sort"),
            ("cursor=garbage", "cursor"),
            ("filter={oops", "filter"),
            ("custom.tier=gold", "filter.custom.tier"),
        ],
    )
    def test_bad_list_parameters_are_field_level_422(self, api, headers, accounts, qs, field):
        r = api.get(f"/api/v1/accounts?{qs}", headers=headers)
        assert r.status_code == 422, r.text
        assert field in field_errors(r)


class TestCustomFields:
    def test_define_validate_store_and_filter(self, api, headers):
        for definition in (
            {"record_type": "account", "key": "tier", "label": "Tier", "field_type": "choice", "choices": ["gold", "silver"]},
            {"record_type": "account", "key": "seats", "label": "Seats", "field_type": "number"},
            {"record_type": "account", "key": "renewal", "label": "Renewal date", "field_type": "date"},
        ):
            assert api.post("/api/v1/custom-fields", json=definition, headers=headers).status_code == 201
        bad = api.post(
            "/api/v1/accounts",
            json={"name": "X", "custom": {"tier": "bronze", "seats": "many", "renewal": "soon", "colour": "red"}},
            headers=headers,
        )
        assert set(field_errors(bad)) == {"custom.tier", "custom.seats", "custom.renewal", "custom.colour"}
        a = api.post("/api/v1/accounts", json={"name": "A", "custom": {"tier": "gold", "seats": "120"}}, headers=headers)
        assert a.json()["custom"] == {"tier": "gold", "seats": 120}
        api.post("/api/v1/accounts", json={"name": "B", "custom": {"tier": "silver", "seats": 8, "renewal": "2027-01-31"}}, headers=headers)
        names = lambda qs: [x["name"] for x in api.get(f"/api/v1/accounts?{qs}&sort=name", headers=headers).json()["items"]]  # noqa: E731
        assert names("custom.tier=gold") == ["A"]
        assert names("custom.seats__gt=10") == ["A"]
        assert names("custom.renewal__before=2027-06-01") == ["B"]
        patched = api.patch(f"/api/v1/accounts/{a.json()['id']}", json={"custom": {"seats": None}}, headers=headers)
        assert patched.json()["custom"] == {"tier": "gold"}

    def test_required_custom_field(self, api, headers):
        api.post(
            "/api/v1/custom-fields",
            json={"record_type": "contact", "key": "region", "label": "Region", "field_type": "text", "required": True},
            headers=headers,
        )
        r = api.post("/api/v1/contacts", json={"last_name": "X"}, headers=headers)
        assert field_errors(r) == {"custom.region": "is required"}


class TestUpdateAndDelete:
    def test_partial_update_keeps_other_fields_and_writes_history(self, api, headers, session):
        created = api.post("/api/v1/accounts", json={"name": "Acme", "industry": "Retail"}, headers=headers).json()
        r = api.patch(f"/api/v1/accounts/{created['id']}", json={"industry": "Software"}, headers=headers)
        assert r.status_code == 200
        assert (r.json()["name"], r.json()["industry"]) == ("Acme", "Software")
        history = api.get(f"/api/v1/accounts/{created['id']}/history", headers=headers).json()
        assert history[0]["action"] == "updated"
        assert history[0]["changes"] == {"industry": ["Retail", "Software"]}

    def test_bad_update_changes_nothing(self, api, headers):
        created = api.post("/api/v1/contacts", json={"last_name": "X", "email": "x@example.com"}, headers=headers).json()
        r = api.patch(f"/api/v1/contacts/{created['id']}", json={"email": "broken", "title": "CEO"}, headers=headers)
        assert r.status_code == 422
        after = api.get(f"/api/v1/contacts/{created['id']}", headers=headers).json()
        assert (after["email"], after["title"]) == ("x@example.com", None)

    def test_delete(self, api, headers):
        created = api.post("/api/v1/accounts", json={"name": "Gone"}, headers=headers).json()
        assert api.delete(f"/api/v1/accounts/{created['id']}", headers=headers).status_code == 204
        assert api.get(f"/api/v1/accounts/{created['id']}", headers=headers).status_code == 404
        assert api.get(f"/api/v1/accounts/{uuid.uuid4()}", headers=headers).status_code == 404


class TestIdempotencyKey:
    def test_retry_returns_the_first_response_and_writes_once(self, api, headers, session):
        h = {**headers, "Idempotency-Key": "create-ada-1"}
        first = api.post("/api/v1/contacts", json={"last_name": "Lovelace"}, headers=h)
        second = api.post("/api/v1/contacts", json={"last_name": "Lovelace"}, headers=h)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert session.scalar(select(func.count()).select_from(Contact)) == 1

    def test_same_key_for_a_different_request_is_refused(self, api, headers):
        h = {**headers, "Idempotency-Key": "k-2"}
        api.post("/api/v1/contacts", json={"last_name": "One"}, headers=h)
        r = api.post("/api/v1/contacts", json={"last_name": "Two"}, headers=h)
        assert r.status_code == 422
        assert "Idempotency-Key" in field_errors(r)

    def test_failed_request_does_not_burn_the_key(self, api, headers):
        h = {**headers, "Idempotency-Key": "k-3"}
        assert api.post("/api/v1/contacts", json={"last_name": "X", "email": "bad"}, headers=h).status_code == 422
        assert api.post("/api/v1/contacts", json={"last_name": "X", "email": "bad"}, headers=h).status_code == 422


def test_openapi_document_is_served(api):
    r = api.get("/api/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/contacts" in r.json()["paths"]
    assert api.get("/api/docs").status_code == 200


@pytest.mark.parametrize(
    ("path", "create", "field"),
    [
        ("/api/v1/contacts", {"last_name": "X"}, "lifecycle_stage"),
        ("/api/v1/contacts", {"last_name": "X"}, "last_name"),
        ("/api/v1/deals", {"name": "D"}, "pipeline_id"),
        ("/api/v1/deals", {"name": "D"}, "stage_id"),
        ("/api/v1/deals", {"name": "D"}, "currency"),
        ("/api/v1/tasks", {"title": "T"}, "status"),
    ],
)
def test_nulling_a_required_field_is_a_field_error(api, headers, factory, session, path, create, field):
    factory.pipeline()
    session.commit()
    created = api.post(path, json=create, headers=headers).json()
    r = api.patch(f"{path}/{created['id']}", json={field: None}, headers=headers)
    assert r.status_code == 422, r.text
    assert field in field_errors(r)


def test_no_two_operations_share_a_route(api):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.app.openapi_schema = None
        api.app.openapi()
