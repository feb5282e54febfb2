"""Exporting record lists over the API and from the web pages: the list's filters, the
reader's visibility, formula-safe CSV, custom fields, thousands of rows, the audit trail."""

import csv
import io
import json
import uuid

import pytest
from sqlalchemy import select

from pipewise.audit.models import AuditEntry
from pipewise.crm.models import Contact
from pipewise.db.base import utcnow


@pytest.fixture
def teams(factory, session):  # type: ignore[no-untyped-def]
    east, west = factory.team("East"), factory.team("West")
    people = {"east_rep": factory.user(role="rep", team=east), "west_rep": factory.user(role="rep", team=west),
              "admin": factory.user(role="admin")}
    session.commit()
    return people


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


class TestCsv:
    def test_a_name_that_starts_a_formula_is_quoted(self, api, factory, session, teams):
        rep = teams["east_rep"]
        factory.contact(owner=rep, first_name="=HYPERLINK(\"http://evil.example\")", last_name="@SUM(A1)", email=None)
        session.commit()
        response = api.get("/api/v1/contacts/export", headers=factory.headers(rep), params={"format": "csv"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        [row] = rows_of(response.text)
        assert row["first_name"] == "'=HYPERLINK(\"http://evil.example\")" and row["last_name"] == "'@SUM(A1)"

    def test_custom_fields_are_columns_of_their_own(self, api, factory, session, teams):
        admin = factory.headers(teams["admin"])
        for key in ("tier", "region"):
            created = api.post("/api/v1/custom-fields", headers=admin,
                               json={"record_type": "account", "key": key, "label": key.title(), "field_type": "text"})
            assert created.status_code == 201, created.text
        factory.account(owner=teams["east_rep"], name="Engines", custom={"tier": "gold"})
        session.commit()
        text = api.get("/api/v1/accounts/export", headers=admin).text
        header = text.splitlines()[0].split(",")
        assert sorted(header[-2:]) == ["custom.region", "custom.tier"] and "custom" not in header
        [row] = rows_of(text)
        assert (row["name"], row["custom.tier"], row["custom.region"]) == ("Engines", "gold", "")

    def test_thousands_of_rows_stream_in_the_list_order(self, api, factory, session, teams):
        rep = teams["east_rep"]
        now = utcnow()
        session.add_all(Contact(id=uuid.uuid4(), last_name=f"Person {n:04d}", owner_id=rep.id, custom={},
                                created_at=now, updated_at=now) for n in range(3000))
        session.commit()
        response = api.get("/api/v1/contacts/export", headers=factory.headers(rep), params={"sort": "last_name"})
        rows = rows_of(response.text)
        assert [r["last_name"] for r in rows] == [f"Person {n:04d}" for n in range(3000)]


class TestJson:
    def test_the_list_filters_apply(self, api, factory, session, teams):
        rep = teams["east_rep"]
        for name, industry in (("Engines", "Software"), ("Looms", "Textiles"), ("Compilers", "Software")):
            factory.account(owner=rep, name=name, industry=industry)
        session.commit()
        response = api.get("/api/v1/accounts/export", headers=factory.headers(rep),
                           params={"format": "json", "industry": "Software", "sort": "name"})
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        assert [a["name"] for a in response.json()] == ["Compilers", "Engines"]

    def test_the_accept_header_chooses_json(self, api, factory, session, teams):
        factory.pipeline()
        factory.deal(owner=teams["east_rep"], name="Big one")
        session.commit()
        headers = {**factory.headers(teams["east_rep"]), "Accept": "application/json"}
        response = api.get("/api/v1/deals/export", headers=headers)
        assert response.headers["content-type"] == "application/json"
        assert [d["name"] for d in response.json()] == ["Big one"]

    def test_a_saved_view_applies(self, api, factory, session, teams):
        rep = teams["east_rep"]
        headers = factory.headers(rep)
        factory.contact(owner=rep, last_name="Lovelace", lifecycle_stage="customer")
        factory.contact(owner=rep, last_name="Hopper")
        session.commit()
        view = api.post("/api/v1/saved-views", headers=headers, json={
            "name": "Customers", "record_type": "contact",
            "filter": {"field": "lifecycle_stage", "op": "eq", "value": "customer"}})
        assert view.status_code == 201, view.text
        exported = api.get("/api/v1/contacts/export", headers=headers, params={"format": "json", "view": view.json()["id"]})
        assert [c["last_name"] for c in exported.json()] == ["Lovelace"]


class TestVisibility:
    def test_a_rep_exports_only_what_they_can_see(self, api, factory, session, teams):
        mine = factory.contact(owner=teams["east_rep"], last_name="Mine")
        theirs = factory.contact(owner=teams["west_rep"], last_name="Theirs")
        session.commit()
        text = api.get("/api/v1/contacts/export", headers=factory.headers(teams["east_rep"])).text
        assert str(mine.id) in text and str(theirs.id) not in text and "Theirs" not in text
        everything = api.get("/api/v1/contacts/export", headers=factory.headers(teams["admin"])).text
        assert str(theirs.id) in everything

    def test_a_filter_on_another_teams_owner_finds_nothing(self, api, factory, session, teams):
        factory.contact(owner=teams["west_rep"], last_name="Theirs")
        session.commit()
        response = api.get("/api/v1/contacts/export", headers=factory.headers(teams["east_rep"]),
                           params={"owner_id": str(teams["west_rep"].id), "format": "json"})
        assert response.json() == []


class TestBadInput:
    @pytest.mark.parametrize("params", [{"format": "xlsx"}, {"sort": "nope"}, {"filter": "{bad"}, {"nope__gt": "1"}])
    def test_is_a_4xx_with_the_field(self, api, factory, teams, params):
        response = api.get("/api/v1/contacts/export", headers=factory.headers(teams["east_rep"]), params=params)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_without_a_token_is_401(self, api):
        assert api.get("/api/v1/contacts/export").status_code == 401


def test_an_export_is_audited(api, factory, session, teams):
    api.get("/api/v1/leads/export", headers=factory.headers(teams["east_rep"]), params={"format": "json", "q": "ada"})
    session.commit()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert (entry.actor_id, entry.target_type, entry.channel) == (teams["east_rep"].id, "lead", "api")
    assert entry.details["format"] == "json" and entry.details["q"] == "ada"


class TestWebExport:
    def test_the_list_page_links_an_export_of_what_it_shows(self, web, factory, session, teams):
        rep = teams["east_rep"]
        factory.account(owner=rep, name="Engines", industry="Software")
        factory.account(owner=rep, name="Looms", industry="Textiles")
        factory.account(owner=teams["west_rep"], name="Hidden", industry="Software")
        session.commit()
        web.login(rep)
        page = web.get("/accounts", params={"industry": "Software"}).text
        assert 'href="/export/accounts?format=csv&amp;industry=Software"' in page
        response = web.get("/export/accounts", params={"format": "csv", "industry": "Software"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert [r["name"] for r in rows_of(response.text)] == ["Engines"]
        as_json = web.get("/export/accounts", params={"format": "json", "industry": "Software"}).json()
        assert [a["name"] for a in as_json] == ["Engines"]

    def test_any_list_exports_from_the_web_too(self, web, factory, session, teams):
        factory.task(owner=teams["east_rep"], title="=1+1")
        session.commit()
        web.login(teams["east_rep"])
        assert [t["title"] for t in rows_of(web.get("/export/tasks").text)] == ["'=1+1"]

    def test_signed_out_is_sent_to_log_in(self, web):
        response = web.get("/export/contacts", follow_redirects=False)
        assert response.status_code in (302, 303, 401)

    def test_json_items_are_the_api_shapes(self, web, factory, session, teams):
        factory.contact(owner=teams["east_rep"], last_name="Lovelace", custom={})
        session.commit()
        web.login(teams["east_rep"])
        [item] = json.loads(web.get("/export/contacts?format=json").text)
        assert item["last_name"] == "Lovelace" and "version" in item and "custom" in item


def test_every_list_exports_from_the_web(web, factory, session, teams):
    """No record page's own route stands in front of an export (``/products/{id}`` and the like)."""
    from pipewise import domains
    from pipewise.dataio.domain import EXPORTABLE

    domains.load()
    web.login(teams["admin"])
    for plural in EXPORTABLE:
        response = web.get(f"/export/{plural}")
        assert response.status_code == 200, (plural, response.status_code)
        assert response.text.startswith("id,") and response.headers["content-type"].startswith("text/csv"), plural

