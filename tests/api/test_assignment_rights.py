"""Who may be made an owner or assignee: a rep assigns to themselves and their team, a
manager also to the teams they manage, an admin to anyone — through the API, the web
forms, hand assignment of a lead and the CSV import."""

import pytest

from tests.api.test_records import field_errors
from tests.web.conftest import WebClient

OUTSIDE = "you may assign only to yourself or to members of the teams you work for"


@pytest.fixture
def people(factory, session):
    home, managed, elsewhere = factory.team("Home"), factory.team("Managed"), factory.team("Elsewhere")
    people = {
        "rep": factory.user(team=home),
        "teammate": factory.user(team=home),
        "manager": factory.user(role="manager", team=home),
        "managed_rep": factory.user(team=managed),
        "stranger": factory.user(team=elsewhere),
        "admin": factory.user(role="admin"),
    }
    managed.manager_id = people["manager"].id
    session.commit()
    return people


def owner_status(api, factory, actor, owner, path="/api/v1/contacts", body=None):
    body = {**(body or {"last_name": "Owned"}), "owner_id": str(owner.id)}
    return api.post(path, json=body, headers=factory.headers(actor))


@pytest.mark.parametrize(
    ("actor", "owner", "allowed"),
    [
        ("rep", "rep", True),
        ("rep", "teammate", True),
        ("rep", "managed_rep", False),
        ("rep", "stranger", False),
        ("manager", "managed_rep", True),
        ("manager", "teammate", True),
        ("manager", "stranger", False),
        ("admin", "stranger", True),
    ],
)
def test_create_with_owner(api, factory, people, actor, owner, allowed):
    response = owner_status(api, factory, people[actor], people[owner])
    if allowed:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 422
        assert field_errors(response) == {"owner_id": OUTSIDE}


def test_reassigning_by_patch_and_task_assignee(api, factory, people):
    headers = factory.headers(people["rep"])
    contact = api.post("/api/v1/contacts", json={"last_name": "Mine"}, headers=headers).json()
    refused = api.patch(f"/api/v1/contacts/{contact['id']}", json={"owner_id": str(people["stranger"].id)}, headers=headers)
    assert refused.status_code == 422 and field_errors(refused) == {"owner_id": OUTSIDE}
    moved = api.patch(f"/api/v1/contacts/{contact['id']}", json={"owner_id": str(people["teammate"].id)}, headers=headers)
    assert moved.status_code == 200 and moved.json()["owner_id"] == str(people["teammate"].id)

    task = owner_status(api, factory, people["rep"], people["stranger"], "/api/v1/tasks", {"title": "Call back"})
    assert task.status_code == 422 and field_errors(task) == {"owner_id": OUTSIDE}


def test_hand_assignment_of_a_lead(api, factory, people, session):
    lead = factory.lead(people["rep"])
    session.commit()
    headers = factory.headers(people["rep"])
    refused = api.post(f"/api/v1/leads/{lead.id}/assign", json={"owner_id": str(people["stranger"].id)}, headers=headers)
    assert refused.status_code == 422 and field_errors(refused) == {"owner_id": OUTSIDE}
    done = api.post(f"/api/v1/leads/{lead.id}/assign", json={"owner_id": str(people["teammate"].id)}, headers=headers)
    assert done.status_code == 200 and done.json()["owner_id"] == str(people["teammate"].id)


def test_web_form_refuses_an_outside_owner(api, factory, people, session):
    contact = factory.contact(people["rep"], last_name="Webbed")
    session.commit()
    web = WebClient(api)
    web.login(people["rep"])
    form = {"first_name": "", "last_name": "Webbed", "email": "", "lifecycle_stage": "lead", "consent_state": "unknown"}
    refused = web.post(f"/contacts/{contact.id}", {**form, "owner_id": str(people["stranger"].id)})
    assert refused.status_code == 422
    assert OUTSIDE in refused.text
    session.expire_all()
    assert contact.owner_id == people["rep"].id


def test_import_refuses_rows_with_an_outside_owner(api, factory, people, session):
    csv = f"last_name,email,owner\nOne,one@one.example,{people['teammate'].email}\nTwo,two@two.example,{people['stranger'].email}\n"
    headers = factory.headers(people["manager"])
    job = api.post("/api/v1/lead-imports", files={"file": ("leads.csv", csv.encode(), "text/csv")}, headers=headers)
    assert job.status_code == 201, job.text
    rows = api.get(f"/api/v1/lead-imports/{job.json()['id']}/rows", headers=headers).json()
    assert [(r["outcome"], r["reason"]) for r in rows][-1] == ("rejected", "the owner is not a Pipewise user you may assign leads to")
    assert (job.json()["created_count"], job.json()["rejected_count"]) == (1, 1)
