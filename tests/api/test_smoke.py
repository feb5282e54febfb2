def test_create_and_read_contact(api, factory, session):
    user = factory.user(role="admin")
    headers = factory.headers(user)
    r = api.post("/api/v1/contacts", json={"first_name": "Grace", "last_name": "Hopper", "email": " Grace@Navy.MIL "}, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["email"] == "grace@navy.mil"
    r2 = api.get(f"/api/v1/contacts/{body['id']}", headers=headers)
    assert r2.status_code == 200
    assert r2.json()["last_name"] == "Hopper"
    r3 = api.get("/api/v1/contacts?email=grace@navy.mil", headers=headers)
    assert [c["id"] for c in r3.json()["items"]] == [body["id"]]
