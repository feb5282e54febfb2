"""Bad input is a 4xx with a field message, never a 500: the requests that used to fail
inside the server, pinned one by one through HTTP."""

import json

import pytest

from pipewise.config import get_settings

DEPTH = 40  # deeper than the allowed 32


@pytest.fixture
def h(factory, session):
    factory.pipeline()
    user = factory.user(role="admin")
    session.commit()
    return factory.headers(user)


def errors_of(response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


def nested(depth: int) -> str:
    return '{"x": ' * depth + "1" + "}" * depth


class TestTimes:
    def test_a_time_without_zone_is_taken_as_utc(self, api, h):
        task = api.post("/api/v1/tasks", json={"title": "Call", "due_at": "2030-01-01T10:00:00"}, headers=h)
        assert task.status_code == 201, task.text
        assert task.json()["due_at"] == "2030-01-01T10:00:00Z"

    @pytest.mark.parametrize("when", ["9999-12-31T23:59:59-05:00", "9999-12-31T23:00:00-01:30"])
    def test_a_time_beyond_year_9999_in_utc_is_out_of_range(self, api, h, when):
        response = api.post("/api/v1/tasks", json={"title": "Call", "due_at": when}, headers=h)
        assert response.status_code == 422
        assert "out of range" in errors_of(response)["due_at"]

    def test_far_future_in_a_list_filter(self, api, h):
        response = api.get("/api/v1/tasks", params={"due_at__gt": "9999-12-31T23:59:59-05:00"}, headers=h)
        assert response.status_code == 422
        assert "filter.due_at" in errors_of(response)


class TestNumbers:
    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/api/v1/accounts", {"name": "Big", "size": 10**30}, "size"),
            ("/api/v1/accounts", {"name": "Big", "size": 2**31}, "size"),
            ("/api/v1/leads", {"last_name": "Big", "company_size": 10**20}, "company_size"),
            ("/api/v1/stages", None, "position"),
        ],
    )
    def test_integers_are_bounded_to_their_column(self, api, h, path, body, field):
        if body is None:
            pipeline_id = api.get("/api/v1/pipelines", headers=h).json()["items"][0]["id"]
            body = {"pipeline_id": pipeline_id, "name": "Far", "position": 2**40}
        response = api.post(path, json=body, headers=h)
        assert response.status_code == 422
        assert errors_of(response)[field].startswith("must be between")

    @pytest.mark.parametrize("amount", ["1e1000000", "123456789012345678.5", 1e300])
    def test_huge_decimals_are_refused(self, api, h, amount):
        response = api.post("/api/v1/deals", json={"name": "Big", "amount": amount}, headers=h)
        assert response.status_code == 422
        assert "amount" in errors_of(response)

    def test_money_is_rounded_to_cents(self, api, h):
        response = api.post("/api/v1/deals", json={"name": "Odd", "amount": "10.005"}, headers=h)
        assert response.status_code == 422 or response.json()["amount"] in ("10.00", "10.01")

    def test_huge_custom_number(self, api, h):
        api.post("/api/v1/custom-fields", json={"record_type": "account", "key": "seats", "label": "Seats",
                                                "field_type": "number"}, headers=h)
        response = api.post("/api/v1/accounts", json={"name": "A", "custom": {"seats": "1e1000000"}}, headers=h)
        assert response.status_code == 422
        assert "custom.seats" in errors_of(response)

    def test_huge_integer_in_a_filter(self, api, h):
        response = api.get("/api/v1/accounts", params={"filter": json.dumps({"field": "size", "op": "gt", "value": 10**30})},
                           headers=h)
        assert response.status_code == 422
        assert "filter.size" in errors_of(response)


class TestNulls:
    @pytest.fixture
    def form(self, api, h):
        body = {"name": "Contact us", "field_map": {"email": "email", "name": "full_name"}}
        return api.post("/api/v1/lead-forms", json=body, headers=h).json()

    @pytest.mark.parametrize("field", ["name", "field_map", "is_active", "rate_limit_per_minute", "source"])
    def test_required_form_fields(self, api, h, form, field):
        response = api.patch(f"/api/v1/lead-forms/{form['id']}", json={field: None}, headers=h)
        assert response.status_code == 422
        assert field in errors_of(response)
        assert api.get(f"/api/v1/lead-forms/{form['id']}", headers=h).json()["name"] == "Contact us"

    @pytest.mark.parametrize("field", ["name", "conditions", "is_active", "prefer_account_owner", "position"])
    def test_required_routing_rule_fields(self, api, h, field):
        rule = api.post("/api/v1/routing/rules", json={"name": "R", "target_type": "queue", "queue": "inbox"}, headers=h).json()
        response = api.patch(f"/api/v1/routing/rules/{rule['id']}", json={field: None}, headers=h)
        assert response.status_code == 422
        assert field in errors_of(response)

    @pytest.mark.parametrize("field", ["work_start", "workdays", "timezone", "reassign_on_breach"])
    def test_required_routing_policy_fields(self, api, h, field):
        response = api.patch("/api/v1/routing/policy", json={field: None}, headers=h)
        assert response.status_code == 422
        assert field in errors_of(response)

    def test_custom_null_on_a_stage_change(self, api, h):
        deal = api.post("/api/v1/deals", json={"name": "D"}, headers=h).json()
        stages = api.get("/api/v1/stages", params={"pipeline_id": deal["pipeline_id"], "sort": "position"}, headers=h)
        second = stages.json()["items"][1]["id"]
        response = api.patch(f"/api/v1/deals/{deal['id']}", json={"stage_id": second, "custom": None}, headers=h)
        assert response.status_code == 422
        assert errors_of(response) == {"custom": "cannot be empty"}


class TestNulCharacters:
    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/api/v1/contacts", {"last_name": "a\u0000b"}, "last_name"),
            ("/api/v1/leads", {"last_name": "L", "attribution": {"utm_source": "x\u0000"}}, "attribution.utm_source"),
            ("/api/v1/leads/capture", {"email": "a@b.example", "first_name": "\u0000"}, "first_name"),
        ],
    )
    def test_in_json_bodies(self, api, h, path, body, field):
        response = api.post(path, json=body, headers=h)
        assert response.status_code == 422
        assert errors_of(response) == {field: "must not contain NUL characters"}

    def test_in_the_query_and_in_a_filter(self, api, h):
        assert errors_of(api.get("/api/v1/contacts?last_name=a%00b", headers=h)) == {
            "last_name": "must not contain NUL characters"
        }
        tree = json.dumps({"field": "last_name", "op": "contains", "value": "a\u0000"})
        response = api.get("/api/v1/contacts", params={"filter": tree}, headers=h)
        assert response.status_code == 422 and "filter.last_name" in errors_of(response)

    def test_in_the_public_form_json_and_form_encoded(self, api, h):
        form = api.post("/api/v1/lead-forms", json={"name": "F", "field_map": {"email": "email", "name": "full_name"}},
                        headers=h).json()
        as_json = api.post(f"/f/{form['key']}", json={"email": "a@b.example", "name": "x\u0000"})
        as_form = api.post(f"/f/{form['key']}", data={"email": "a@b.example", "name": "x\u0000"})
        for response in (as_json, as_form):
            assert response.status_code == 422
            assert errors_of(response) == {"name": "must not contain NUL characters"}


class TestNesting:
    def test_record_body(self, api, h):
        response = api.post("/api/v1/contacts", content='{"last_name": "N", "custom": ' + nested(DEPTH) + "}",
                            headers={**h, "content-type": "application/json"})
        assert response.status_code == 422
        assert errors_of(response) == {"body": "is nested deeper than 32 levels"}

    def test_public_form_without_login(self, api, h):
        form = api.post("/api/v1/lead-forms", json={"name": "F", "field_map": {"email": "email"}}, headers=h).json()
        response = api.post(f"/f/{form['key']}", content="[" * 100_000 + "]" * 100_000,
                            headers={"content-type": "application/json"})
        assert response.status_code == 422
        assert errors_of(response) == {"body": "is nested deeper than 32 levels"}

    @pytest.mark.parametrize("tree", [nested(DEPTH), '{"not": ' * DEPTH + '{"field": "last_name"}' + "}" * DEPTH,
                                      "[" * 5000 + "]" * 5000])
    def test_list_filter(self, api, h, tree):
        response = api.get("/api/v1/contacts", params={"filter": tree}, headers=h)
        assert response.status_code == 422
        assert any(field.startswith("filter") for field in errors_of(response))

    def test_brackets_inside_strings_do_not_count(self, api, h):
        response = api.post("/api/v1/contacts", json={"last_name": "[" * 40 + "{" * 40}, headers=h)
        assert response.status_code == 201


class TestBodySize:
    def test_a_body_over_the_limit_is_413(self, api, h):
        limit = get_settings().max_body_bytes
        response = api.post("/api/v1/contacts", content=b"{" + b" " * limit + b"}",
                            headers={**h, "content-type": "application/json"})
        assert response.status_code == 413
        assert response.json()["title"] == "Content too large"

    def test_a_chunked_body_without_length_is_cut_off_too(self, api, h):
        def chunks():
            yield b'{"last_name": "'
            for _ in range(20):
                yield b"x" * 100_000
            yield b'"}'

        response = api.post("/api/v1/contacts", content=chunks(), headers={**h, "content-type": "application/json"})
        assert "content-length" not in response.request.headers
        assert response.status_code == 413

    def test_imports_have_their_own_larger_limit(self, api, h):
        padding = "x" * 12_000  # an extra column the import leaves unmapped
        rows = "".join(f"Lead{n},lead{n}@example.org,{padding}\n" for n in range(100))
        upload = ("last_name,email,notes\n" + rows).encode()
        assert len(upload) > get_settings().max_body_bytes
        response = api.post("/api/v1/lead-imports", files={"file": ("big.csv", upload)}, headers=h)
        assert response.status_code == 201, response.text
        assert response.json()["created_count"] == 100

    def test_an_upload_over_the_import_limit_is_413(self, api, h, monkeypatch):
        monkeypatch.setattr(get_settings(), "max_import_bytes", 10_000)
        response = api.post("/api/v1/lead-imports", files={"file": ("big.csv", b"last_name\n" + b"x\n" * 10_000)},
                            headers=h)
        assert response.status_code == 413


