"""Input that could break the automation API: deeply nested or huge workflow files and
definitions, and day counts past what a date can hold, get a 4xx with a field message."""

import json

import pytest
from typer.testing import CliRunner

from pipewise.automation import conditions
from pipewise.cli.main import app

DEEP_YAML = "name: Deep\ntrigger: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_JSON = '{"name": "Deep", "trigger": ' + "[" * 100_000 + "]" * 100_000 + "}"
LAUGHS = "name: Laughs\n" + "\n".join(
    [f"a0: &a0 [{', '.join(['x'] * 10)}]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
) + "\ntrigger: {type: manual}\nsteps: []\n"


@pytest.fixture
def headers(factory, session):
    return factory.headers(factory.user(role="admin"))


# Deep JSON is refused by the request limits before any route reads it (field "body").
@pytest.mark.parametrize(("body", "content_type", "field", "message"), [
    (DEEP_YAML, "application/yaml", "file", "nested too deeply"),
    (DEEP_JSON, "application/json", "body", "nested deeper than"),
    (LAUGHS, "application/yaml", "file", "too many values"),
    ("name: Big\ndescription: " + "x" * 1_000_001, "application/yaml", "file", "too large"),
])
def test_import_refuses_deep_or_huge_documents(api, headers, body, content_type, field, message):
    r = api.post("/api/v1/workflows/import", content=body, headers={**headers, "Content-Type": content_type})
    assert r.status_code == 422, r.text[:300]
    [error] = r.json()["errors"]
    assert error["field"] == field and message in error["message"]


def test_the_cli_import_says_so_too(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP_YAML)
    result = CliRunner().invoke(app, ["workflows", "import", str(path)])
    assert result.exit_code != 0 and "nested too deeply" in result.output


def nested_condition(depth: int) -> dict:
    tree: dict = {"field": "title", "op": "eq", "value": "CEO"}
    for _ in range(depth):
        tree = {"not": tree}
    return tree


def test_a_deeply_nested_definition_gets_a_field_error(api, headers):
    """Over HTTP the request limits refuse the JSON body before the route parses it."""
    definition = {"trigger": {"type": "manual", "record_type": "contact"}, "conditions": nested_condition(400),
                  "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]}
    r = api.post("/api/v1/workflows", content=json.dumps({"name": "Deep", "definition": definition}),
                 headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "body" and "nested deeper than 32 levels" in error["message"]


@pytest.mark.parametrize("days", [10**12, -1, 36_501])
def test_day_counts_out_of_range_are_refused_when_saved(api, headers, days):
    definition = {"trigger": {"type": "manual", "record_type": "contact"},
                  "conditions": {"all": [{"field": "created_at", "op": "within_last_days", "value": days}]},
                  "steps": [{"id": "t", "type": "add_tag", "tag": "x"}]}
    r = api.post("/api/v1/workflows", json={"name": "Days", "definition": definition}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "definition.conditions.all[0].value", "message": "takes a whole number of days from 0 to 36,500"}
    ]


def test_a_stored_day_count_out_of_range_does_not_break_evaluation(session, factory):
    contact = factory.contact()
    session.flush()
    for op in ("within_last_days", "older_than_days"):
        tree = {"field": "created_at", "op": op, "value": 10**12}
        assert conditions.matches(session, "contact", contact.id, tree) is (op == "within_last_days")
        assert conditions.explain(session, "contact", contact.id, tree).ok is (op == "within_last_days")
