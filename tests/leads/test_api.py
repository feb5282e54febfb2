import json

from sqlalchemy import select

from pipewise.leads.models import Lead

BROKEN = b"First Name,Last Name,Email\nAda,Lovelace,ada@engines.example\nBad,Mail,nope\n\xff\xfe,X,x@example.com\n"


class TestImportApi:
    def test_preview_then_import_then_report(self, api, factory):
        headers = factory.headers(factory.user(role="manager"))
        preview = api.post("/api/v1/lead-imports/preview", files={"file": ("leads.csv", BROKEN)}, headers=headers)
        assert preview.status_code == 200
        assert preview.json()["mapping"] == {"First Name": "first_name", "Last Name": "last_name", "Email": "email"}
        done = api.post("/api/v1/lead-imports", files={"file": ("leads.csv", BROKEN)},
                        data={"on_duplicate": "update", "mapping": json.dumps(preview.json()["mapping"])}, headers=headers)
        assert done.status_code == 201, done.text
        body = done.json()
        assert (body["status"], body["created_count"], body["rejected_count"]) == ("done", 1, 2)
        rows = api.get(f"/api/v1/lead-imports/{body['id']}/rows", headers=headers).json()
        assert [r["line"] for r in rows] == [3, 4]
        report = api.get(f"/api/v1/lead-imports/{body['id']}/report.csv", headers=headers).text
        assert report.splitlines()[0] == "line,outcome,reason,excerpt" and "UTF-8" in report

    def test_bad_requests_are_4xx(self, api, factory):
        headers = factory.headers(factory.user())
        bad_mode = api.post("/api/v1/lead-imports", files={"file": ("x.csv", BROKEN)}, data={"on_duplicate": "merge"}, headers=headers)
        assert bad_mode.status_code == 422 and bad_mode.json()["errors"][0]["field"] == "on_duplicate"
        bad_map = api.post("/api/v1/lead-imports", files={"file": ("x.csv", BROKEN)}, data={"mapping": "{"}, headers=headers)
        assert bad_map.status_code == 422
        empty = api.post("/api/v1/lead-imports/preview", files={"file": ("x.csv", b"")}, headers=headers)
        assert empty.status_code == 422


class TestDuplicatesApi:
    def test_candidates_review_and_merge(self, api, session, factory):
        headers = factory.headers(factory.user(role="admin"))
        a = api.post("/api/v1/leads", json={"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example"}, headers=headers).json()
        b = api.post("/api/v1/leads", json={"first_name": "Grace", "last_name": "Hopper", "email": "GRACE@navy.example", "title": "Admiral"}, headers=headers).json()
        candidates = api.get(f"/api/v1/leads/{b['id']}/duplicates", headers=headers).json()
        assert candidates[0]["candidate_id"] == a["id"] and candidates[0]["score"] == 100
        assert len(api.get("/api/v1/duplicates", headers=headers).json()) == 1
        merged = api.post("/api/v1/merges", json={"record_type": "lead", "survivor_id": a["id"], "merged_ids": [b["id"]]}, headers=headers)
        assert merged.status_code == 200, merged.text
        assert api.get(f"/api/v1/leads/{b['id']}", headers=headers).status_code == 404
        assert api.get(f"/api/v1/leads/{a['id']}", headers=headers).json()["title"] == "Admiral"
        history = api.get(f"/api/v1/leads/{a['id']}/history", headers=headers).json()
        assert history[0]["action"] == "merged"

    def test_merge_validation(self, api, factory):
        headers = factory.headers(factory.user(role="admin"))
        response = api.post("/api/v1/merges", json={"record_type": "deal", "survivor_id": "01a20808-4be4-744d-b687-46a548941add", "merged_ids": ["01a20808-4be4-744d-b687-46a548941ade"]}, headers=headers)
        assert response.status_code == 422


class TestScoringAndRoutingApi:
    def test_engagement_score_and_explanation(self, api, factory):
        headers = factory.headers(factory.user(role="admin"))
        lead = api.post("/api/v1/leads", json={"last_name": "Lovelace", "title": "CTO"}, headers=headers).json()
        scored = api.post(f"/api/v1/leads/{lead['id']}/engagement", json={"kind": "email_click"}, headers=headers)
        assert scored.status_code == 201
        body = scored.json()
        assert body["fit_score"] == 25 and body["engagement_score"] == 4 and body["score"] == 29
        assert {r["text"] for r in body["reasons"]} >= {"C-level or founder"}
        bad = api.post(f"/api/v1/leads/{lead['id']}/engagement", json={"kind": "tweet"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"

    def test_assignment_by_rule_without_an_sla(self, api, factory):
        rep = factory.user(name="Rita")
        headers = factory.headers(factory.user(role="admin"))
        api.post("/api/v1/routing/rules", json={"name": "All", "target_type": "user", "user_id": str(rep.id)}, headers=headers)
        lead = api.post("/api/v1/leads", json={"last_name": "Doe"}, headers=headers).json()
        assigned = api.post(f"/api/v1/leads/{lead['id']}/assign", json={}, headers=headers)
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["status"] == "active" and assigned.json()["sla_due_at"] is None
        listed = api.get(f"/api/v1/leads/{lead['id']}/assignments", headers=headers).json()
        assert [a["status"] for a in listed][-1] == "active"

    def test_rules_policy_and_assignment(self, api, session, factory):
        admin = factory.user(role="admin")
        rep = factory.user(name="Rita")
        headers = factory.headers(admin)
        rule = api.post("/api/v1/routing/rules", json={"name": "US", "conditions": {"field": "country", "op": "eq", "value": "US"},
                                                      "target_type": "user", "user_id": str(rep.id)}, headers=headers)
        assert rule.status_code == 201
        assert api.patch("/api/v1/routing/policy", json={"sla_minutes": 30, "work_start": "25:00"}, headers=headers).status_code == 422
        assert api.patch("/api/v1/routing/policy", json={"sla_minutes": 30}, headers=headers).json()["sla_minutes"] == 30
        lead = api.post("/api/v1/leads", json={"last_name": "Doe", "country": "US"}, headers=headers).json()
        assigned = api.post(f"/api/v1/leads/{lead['id']}/assign", json={}, headers=headers)
        assert assigned.status_code == 200 and assigned.json()["rule_name"] == "US"
        assert assigned.json()["sla_due_at"] is not None
        timeline = api.get(f"/api/v1/leads/{lead['id']}/timeline", headers=headers).json()
        assert any(e["title"] == "Assigned to Rita by rule “US”" for e in timeline)
        other = api.post("/api/v1/leads", json={"last_name": "Roe", "country": "DE"}, headers=headers).json()
        assert api.post(f"/api/v1/leads/{other['id']}/assign", json={}, headers=headers).status_code == 422
        rep_headers = factory.headers(factory.user())
        assert api.post("/api/v1/routing/rules", json={"name": "x", "target_type": "queue", "queue": "q"}, headers=rep_headers).status_code == 403
