"""The audit trail through the surfaces people use: log-ins on the web, tokens and
settings changes over the API, a workflow's writes from the worker, the operator's
command line; who may read it, the CSV export, retention, and that nothing changes an entry."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipewise.audit import service as audit
from pipewise.audit.models import AuditEntry
from pipewise.automation.service import workflow_service
from pipewise.db.base import utcnow
from pipewise.events.models import OutboxEvent
from pipewise.records.models import RecordHistory
from tests.automation.support import MANAGER, drain, make_workflow


def entries(session, **where):  # type: ignore[no-untyped-def]
    session.commit()
    session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, column) == value)
    return list(session.scalars(stmt))


class TestWhatIsRecorded:
    def test_web_log_in_failure_success_and_log_out(self, session, factory, web):
        user = factory.user(role="rep")
        session.commit()
        assert web.login(user, password="wrong-password").status_code == 401
        assert web.login(user).status_code == 303
        web.post("/logout")
        [failed] = entries(session, action="login.failed")
        assert (failed.actor_id, failed.actor_label, failed.channel, failed.ip) == (None, user.email, "web", "testclient")
        [ok] = entries(session, action="login.succeeded")
        assert (ok.actor_id, ok.channel, ok.target_id) == (user.id, "web", str(user.id))
        assert entries(session, action="logout")[0].actor_id == user.id

    def test_permission_changes_over_the_api_name_who_from_where_and_what(self, session, factory, api):
        admin, rep = factory.user(role="admin"), factory.user(role="rep")
        headers = factory.headers(admin)
        session.commit()
        response = api.patch(f"/api/v1/users/{rep.id}", json={"role": "manager"},
                             headers={**headers, "User-Agent": "integration/1.0"})
        assert response.status_code == 200, response.text
        [entry] = entries(session, action="user.updated")
        assert (entry.actor_id, entry.channel, entry.target_id) == (admin.id, "api", str(rep.id))
        assert entry.details["changes"]["role"] == ["rep", "manager"]
        assert entry.user_agent == "integration/1.0" and "role" in entry.summary

    def test_token_creation_and_revocation(self, session, factory, api):
        user = factory.user(role="rep")
        factory.token(user)
        session.commit()
        [created] = entries(session, action="token.created")
        assert created.actor_id == user.id and created.target_type == "token"

    def test_deletes_are_recorded_and_a_persons_own_edit_of_a_contact_is_not(self, session, factory, api):
        rep = factory.user(role="rep", team=factory.team())
        contact_id, rep_id = factory.contact(owner=rep).id, rep.id
        headers = factory.headers(rep)
        session.commit()
        assert api.patch(f"/api/v1/contacts/{contact_id}", json={"first_name": "Ada"}, headers=headers).status_code == 200
        assert entries(session, target_type="contact") == []  # field history has it; no audit noise
        assert api.delete(f"/api/v1/contacts/{contact_id}", headers=headers).status_code == 204
        [deleted] = entries(session, action="contact.deleted")
        assert (deleted.actor_id, deleted.channel, deleted.target_id) == (rep_id, "api", str(contact_id))

    def test_every_write_a_workflow_makes_names_the_workflow(self, session, factory):
        contact = factory.contact()
        workflow = make_workflow(session, {"trigger": {"type": "manual", "record_type": "contact"},
                                           "steps": [{"id": "s", "type": "set_field", "field": "lifecycle_stage", "value": "sql"}]},
                                 name="Qualify")
        workflow_service.enroll_records(session, workflow.id, [contact.id], actor=MANAGER)
        drain(session)
        [entry] = entries(session, action="contact.updated")
        assert entry.channel == "workflow" and f"workflow Qualify ({workflow.id})" == entry.via
        assert entry.details["changes"]["lifecycle_stage"][1] == "sql"

    def test_the_operators_command_line(self, session, factory, cli):
        user = factory.user(role="rep")
        session.commit()
        result = cli("users", "set-password", user.email, "--password", "a-new-password-1")
        assert result.exit_code == 0, result.output
        [entry] = entries(session, action="password.set")
        assert entry.channel == "cli" and entry.actor_label == "operator" and entry.via.startswith("operator ")


class TestReading:
    def test_only_admins_read_search_and_page_back(self, session, factory, api, web):
        admin, rep = factory.user(role="admin"), factory.user(role="rep")
        for n in range(3):
            audit.log(session, "demo.thing", actor=factory.actor(admin), summary=f"thing {n}")
        session.commit()
        assert api.get("/api/v1/audit", headers=factory.headers(rep)).status_code == 403
        first = api.get("/api/v1/audit?action=demo.&limit=2", headers=factory.headers(admin)).json()
        assert [e["summary"] for e in first["items"]] == ["thing 2", "thing 1"]
        rest = api.get(f"/api/v1/audit?action=demo.&limit=2&before_id={first['next_before_id']}",
                       headers=factory.headers(admin)).json()
        assert [e["summary"] for e in rest["items"]] == ["thing 0"] and rest["next_before_id"] is None
        assert api.get("/api/v1/audit?limit=0", headers=factory.headers(admin)).status_code == 422
        web.login(rep)
        assert web.get("/audit").status_code == 403

    def test_the_page_filters_and_exports_formula_safe_csv_and_the_export_is_recorded(self, session, factory, web):
        admin = factory.user(role="admin")
        session.commit()
        web.client.post("/login", data={"email": "=HYPERLINK(\"http://x\")", "password": "nope",
                                         "csrf_token": web.csrf("/login")})
        web.login(admin)
        page = web.get("/audit?action=login.")
        assert page.status_code == 200 and "=HYPERLINK" in page.text and 'id="audit-entries"' in page.text
        assert web.get("/audit?since=bad-date").status_code == 200
        response = web.post("/audit/export", {"action": "login.", "q": "", "channel": "", "since": "", "until": ""})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0][:3] == ["id", "at", "actor_label"]
        labels = [row[2] for row in rows[1:]]
        assert "'=HYPERLINK(\"http://x\")" in labels and admin.email in labels
        [export] = entries(session, action="audit.exported")
        assert export.actor_id == admin.id and export.details == {"action": "login."}


class TestKeepingIt:
    def test_retention_is_an_admin_setting_and_the_purge_removes_only_what_is_older(self, session, factory, api):
        admin, rep = factory.user(role="admin"), factory.user(role="rep")
        audit.log(session, "demo.old", actor=None, summary="old")
        audit.log(session, "demo.new", actor=None, summary="new")
        session.commit()
        old = entries(session, action="demo.old")[0]
        session.execute(AuditEntry.__table__.update().where(AuditEntry.id == old.id)
                        .values(at=utcnow() - timedelta(days=40)))  # the test's clock, not the application
        session.commit()
        assert api.put("/api/v1/audit/retention", json={"retention_days": 30}, headers=factory.headers(rep)).status_code == 403
        bad = api.put("/api/v1/audit/retention", json={"retention_days": 5}, headers=factory.headers(admin))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "retention_days"
        ok = api.put("/api/v1/audit/retention", json={"retention_days": 30}, headers=factory.headers(admin))
        assert ok.json() == {"retention_days": 30}
        assert audit.purge(session) == 1
        session.commit()
        assert [e.action for e in entries(session) if e.action.startswith(("demo.", "audit."))] == [
            "demo.new", "audit.retention_changed"]

    def test_nothing_changes_or_deletes_an_entry(self, session):
        audit.log(session, "demo.x", actor=None, summary="x")
        session.commit()
        entry = session.scalar(select(AuditEntry))
        entry.summary = "rewritten"
        with pytest.raises(audit.AppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.scalar(select(AuditEntry)))
        with pytest.raises(audit.AppendOnly):
            session.flush()


def test_a_password_hash_is_named_as_changed_but_never_kept(session, factory, api):
    admin = factory.user(role="admin")
    headers = factory.headers(admin)
    session.commit()
    created = api.post("/api/v1/users", json={"email": "new.rep@example.com", "name": "New Rep", "role": "rep",
                                              "password": "a-long-password"}, headers=headers)
    assert created.status_code == 201, created.text
    [entry] = entries(session, action="user.created", target_id=created.json()["id"])
    assert entry.details["changes"]["password_hash"] == ["(hidden)", "(hidden)"]
    stored = " ".join(str(row) for row in session.execute(select(RecordHistory.changes, OutboxEvent.payload)
                                                          .join(OutboxEvent, OutboxEvent.record_id == RecordHistory.record_id)))
    assert "argon2" not in stored and "argon2" not in str(entry.details)
