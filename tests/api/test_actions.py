"""Record actions beyond CRUD: deal moves, deal contacts, lead conversion, tasks, timeline."""

import pytest


@pytest.fixture
def rep(factory, session):
    user = factory.user(team=factory.team())
    factory.pipeline()
    session.commit()
    return user


@pytest.fixture
def headers(factory, rep):
    return factory.headers(rep)


def stage_id(api, headers, name):
    stages = api.get("/api/v1/stages?sort=position", headers=headers).json()["items"]
    return next(s["id"] for s in stages if s["name"] == name)


class TestDealMove:
    def test_refusal_names_the_missing_fields(self, api, headers):
        deal = api.post("/api/v1/deals", json={"name": "Big one"}, headers=headers).json()
        r = api.post(f"/api/v1/deals/{deal['id']}/move", json={"stage_id": stage_id(api, headers, "Negotiation")}, headers=headers)
        assert r.status_code == 422
        assert {e["field"]: e["message"] for e in r.json()["errors"]} == {
            "amount": "Amount is required to enter Negotiation",
            "close_date": "Close date is required to enter Negotiation",
        }

    def test_move_succeeds_once_fields_are_filled(self, api, headers):
        deal = api.post("/api/v1/deals", json={"name": "Big one", "amount": "9000", "close_date": "2027-03-31"}, headers=headers).json()
        target = stage_id(api, headers, "Negotiation")
        r = api.post(f"/api/v1/deals/{deal['id']}/move", json={"stage_id": target}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["stage_id"] == target
        timeline = api.get(f"/api/v1/deals/{deal['id']}/timeline", headers=headers).json()
        assert any("stage id" in e["title"] for e in timeline if e["kind"] == "change")

    def test_contacts_on_a_deal(self, api, headers):
        deal = api.post("/api/v1/deals", json={"name": "D"}, headers=headers).json()
        contact = api.post("/api/v1/contacts", json={"last_name": "Buyer", "email": "b@buyer.example"}, headers=headers).json()
        r = api.post(f"/api/v1/deals/{deal['id']}/contacts", json={"contact_id": contact["id"], "role": "economic buyer"}, headers=headers)
        assert r.status_code == 204
        listed = api.get(f"/api/v1/deals/{deal['id']}/contacts", headers=headers).json()
        assert listed == [{"contact_id": contact["id"], "name": "Buyer", "email": "b@buyer.example", "role": "economic buyer"}]


class TestLeadConversion:
    def test_creates_account_contact_and_deal_in_one_go(self, api, headers):
        lead = api.post(
            "/api/v1/leads",
            json={"first_name": "Mia", "last_name": "Wong", "email": "mia@northwind.example", "company": "Northwind"},
            headers=headers,
        ).json()
        assert lead["domain"] == "northwind.example"
        r = api.post(f"/api/v1/leads/{lead['id']}/convert", json={"amount": "12000"}, headers=headers)
        assert r.status_code == 200, r.text
        result = r.json()
        account = api.get(f"/api/v1/accounts/{result['account_id']}", headers=headers).json()
        contact = api.get(f"/api/v1/contacts/{result['contact_id']}", headers=headers).json()
        deal = api.get(f"/api/v1/deals/{result['deal_id']}", headers=headers).json()
        assert (account["name"], account["domain"]) == ("Northwind", "northwind.example")
        assert (contact["email"], contact["account_id"]) == ("mia@northwind.example", account["id"])
        assert (deal["account_id"], deal["amount"]) == (account["id"], "12000.00")
        converted = api.get(f"/api/v1/leads/{lead['id']}", headers=headers).json()
        assert converted["status"] == "converted"
        again = api.post(f"/api/v1/leads/{lead['id']}/convert", json={}, headers=headers)
        assert again.status_code == 409

    def test_links_the_existing_account_with_the_same_domain(self, api, headers):
        account = api.post("/api/v1/accounts", json={"name": "Contoso", "domain": "contoso.example"}, headers=headers).json()
        lead = api.post("/api/v1/leads", json={"last_name": "Lee", "email": "lee@contoso.example"}, headers=headers).json()
        assert lead["account_id"] == account["id"]
        r = api.post(f"/api/v1/leads/{lead['id']}/convert", json={"create_deal": False}, headers=headers).json()
        assert (r["account_id"], r["deal_id"]) == (account["id"], None)

    def test_nothing_is_written_when_conversion_fails(self, api, headers):
        lead = api.post("/api/v1/leads", json={"last_name": "Solo", "email": "solo@gmail.com"}, headers=headers).json()
        r = api.post(f"/api/v1/leads/{lead['id']}/convert", json={}, headers=headers)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "company"
        assert api.get("/api/v1/contacts", headers=headers).json()["items"] == []
        assert api.get(f"/api/v1/leads/{lead['id']}", headers=headers).json()["status"] == "new"


class TestTasksAndTimeline:
    def test_complete_a_task_and_see_it_on_the_timeline(self, api, headers):
        contact = api.post("/api/v1/contacts", json={"last_name": "Kay"}, headers=headers).json()
        task = api.post(
            "/api/v1/tasks",
            json={"title": "Send pricing", "related_type": "contact", "related_id": contact["id"], "due_at": "2030-01-01T09:00:00Z"},
            headers=headers,
        ).json()
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers).json()
        assert done["status"] == "done" and done["completed_at"]
        api.post("/api/v1/activities", json={"type": "call", "direction": "outbound", "subject": "Intro call", "contact_id": contact["id"]}, headers=headers)
        kinds = {e["kind"]: e["title"] for e in api.get(f"/api/v1/contacts/{contact['id']}/timeline", headers=headers).json()}
        assert kinds["task"] == "Task done: Send pricing"
        assert kinds["activity"] == "Call (outbound): Intro call"
        assert kinds["change"] == "Created"

    def test_activity_must_be_linked_to_a_record(self, api, headers):
        r = api.post("/api/v1/activities", json={"type": "note", "subject": "Floating"}, headers=headers)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "contact_id"
