"""Saved views: saved from a list's query string or a filter tree, private or shared,
applied to API lists with ?view=, refused with field-level problems when they are wrong."""

import uuid

import pytest

from pipewise.records.saved_views import filter_from_query, page_query


@pytest.fixture
def people(factory, session):
    team = factory.team("East")
    rep = factory.user(role="rep", team=team)
    other_rep = factory.user(role="rep", team=team)
    manager = factory.user(role="manager", team=team)
    for title, last in (("CEO", "Ada"), ("CTO", "Bo"), ("Intern", "Cy")):
        factory.contact(owner=rep, title=title, last_name=last)
    session.commit()
    return {"rep": factory.headers(rep), "other": factory.headers(other_rep), "manager": factory.headers(manager)}


def test_a_list_query_string_becomes_a_filter():
    assert filter_from_query("contact", "title__in=CEO,CTO&q=ad&sort=last_name&cursor=abc") == {
        "all": [
            {"field": "title", "op": "in", "value": "CEO,CTO"},
            {"any": [{"field": f, "op": "contains", "value": "ad"} for f in ("first_name", "last_name", "email")]},
        ]
    }
    assert page_query("title=CEO&cursor=abc&view=x&owner_id=") == "title=CEO"


def test_save_a_view_and_apply_it_to_a_list(api, people):
    rep = people["rep"]
    r = api.post("/api/v1/saved-views", json={"name": "Leaders", "record_type": "contact", "query": "title__in=CEO,CTO", "sort": "last_name"}, headers=rep)
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["filter"] == {"all": [{"field": "title", "op": "in", "value": "CEO,CTO"}]} and view["shared"] is False

    listed = api.get(f"/api/v1/contacts?view={view['id']}", headers=rep).json()["items"]
    assert [c["last_name"] for c in listed] == ["Ada", "Bo"]  # the view's filter and its sort
    listed = api.get(f"/api/v1/contacts?view={view['id']}&sort=-last_name", headers=rep).json()["items"]
    assert [c["last_name"] for c in listed] == ["Bo", "Ada"]  # a sort asked for wins
    assert [v["name"] for v in api.get("/api/v1/saved-views?record_type=contact", headers=rep).json()] == ["Leaders"]

    r = api.get(f"/api/v1/deals?view={view['id']}", headers=rep)
    assert r.status_code == 422 and "is a contact view, not a deal view" in r.text


def test_wrong_views_are_refused_field_by_field(api, people):
    rep = people["rep"]
    r = api.post("/api/v1/saved-views", json={"name": "Bad", "record_type": "contact", "filter": {"field": "shoe_size", "op": "eq", "value": 9}}, headers=rep)
    assert r.status_code == 422
    assert any(e["field"] == "filter.shoe_size" for e in r.json()["errors"]), r.text
    r = api.post("/api/v1/saved-views", json={"name": "Shared", "record_type": "contact", "shared": True}, headers=rep)
    assert r.status_code == 422 and "only managers and admins share views" in r.text
    assert api.post("/api/v1/saved-views", json={"name": "Mine", "record_type": "contact"}, headers=rep).status_code == 201
    r = api.post("/api/v1/saved-views", json={"name": "Mine", "record_type": "contact"}, headers=rep)
    assert r.status_code == 422 and "already have a contact view called 'Mine'" in r.text
    r = api.post("/api/v1/saved-views", json={"name": "", "record_type": "pipeline"}, headers=rep)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"name", "record_type"}


def test_private_views_stay_private_and_shared_ones_read_only(api, people):
    rep, other, manager = people["rep"], people["other"], people["manager"]
    private = api.post("/api/v1/saved-views", json={"name": "My secret list", "record_type": "contact"}, headers=rep).json()
    shared = api.post("/api/v1/saved-views", json={"name": "Team leaders", "record_type": "contact", "query": "title=CEO", "shared": True}, headers=manager).json()

    assert api.get(f"/api/v1/saved-views/{private['id']}", headers=other).status_code == 404
    assert api.patch(f"/api/v1/saved-views/{private['id']}", json={"name": "Mine now"}, headers=other).status_code == 404
    assert api.delete(f"/api/v1/saved-views/{private['id']}", headers=other).status_code == 404
    assert api.get(f"/api/v1/contacts?view={private['id']}", headers=other).status_code == 404
    assert "My secret list" not in api.get("/api/v1/saved-views", headers=other).text

    assert api.get(f"/api/v1/saved-views/{shared['id']}", headers=other).status_code == 200
    assert api.patch(f"/api/v1/saved-views/{shared['id']}", json={"name": "Taken"}, headers=other).status_code == 403
    assert api.delete(f"/api/v1/saved-views/{shared['id']}", headers=other).status_code == 403
    r = api.patch(f"/api/v1/saved-views/{shared['id']}", json={"query": "title=CTO"}, headers=manager)
    assert r.status_code == 200 and r.json()["filter"] == {"all": [{"field": "title", "op": "eq", "value": "CTO"}]}
    assert api.delete(f"/api/v1/saved-views/{shared['id']}", headers=manager).status_code == 204
    assert api.get(f"/api/v1/saved-views/{uuid.uuid4()}", headers=manager).status_code == 404
