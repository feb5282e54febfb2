"""The export of everything held about a person, through the API: started by an admin,
run by the worker in the background with progress, downloaded as a ZIP of JSON files and
the original .eml files, and audited at both ends."""

import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipewise.audit.models import AuditEntry
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.base import utcnow
from pipewise.deals.service import deal_service
from pipewise.jobs import service as jobs
from pipewise.privacy.subject_export import KEEP_DAYS, export_path, remove_old_exports
from pipewise.sequences.service import sequence_service
from tests.automation.support import make_workflow
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker

TAGGING = {"trigger": {"type": "record_created", "record_type": "contact"},
           "steps": [{"id": "tag", "type": "add_tag", "tag": "checked"}]}


def export(api, headers, body):  # type: ignore[no-untyped-def]
    """Start an export, let the worker pick it up, wait for it and download the ZIP."""
    response = api.post("/api/v1/privacy/exports", headers=headers, json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    run_worker()
    jobs.wait_for(uuid.UUID(job_id))
    status = api.get(f"/api/v1/privacy/exports/{job_id}", headers=headers).json()
    assert status["status"] == "done", status
    download = api.get(status["download_url"], headers=headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    return job_id, zipfile.ZipFile(io.BytesIO(download.content))


def rows(archive: zipfile.ZipFile, name: str) -> list[dict]:  # type: ignore[type-arg]
    return json.loads(archive.read(name))


@pytest.fixture
def admin(factory):  # type: ignore[no-untyped-def]
    return factory.user(role="admin")


class TestWhatTheExportHolds:
    def test_everything_about_a_contact_with_a_manifest(self, session, factory, api, data_dir, admin):
        rep = factory.user(name="Rita Rep")
        mailbox(session, rep)
        make_workflow(session, TAGGING)
        contact = factory.contact(rep, first_name="Erin", last_name="Export", email="erin@export.example")
        other = factory.contact(rep, last_name="Bystander", email="by@stander.example")
        factory.task(rep, title="Send the deck", related_type="contact", related_id=contact.id)
        lead = factory.lead(rep, last_name="Export", email="erin@export.example", company="Erin Co")
        sequence = live_sequence(session, "Welcome", [email_step("Welcome", "<p>Hello Erin</p>")])
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()  # the workflow decides, the sequence sends (to the local outbox: no SMTP server is set)
        factory.activity(rep, subject="Discovery call", type="call", contact_id=contact.id)
        factory.activity(rep, subject="Not about Erin", type="call", contact_id=other.id)
        _pipeline, stages = factory.pipeline()
        deal = factory.deal(rep, name="Erin's deal", stage_id=stages[0].id)
        deal_service.add_contact(session, deal.id, contact.id, role="champion", actor=SYSTEM_ACTOR)
        session.commit()
        api.post(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep),
                 json={"purpose": "profiling", "text": "We score your fit."})

        job_id, archive = export(api, factory.headers(admin), {"contact_id": str(contact.id)})

        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["format"] == "pipewise-subject-export/1"
        assert manifest["subject"] == {"contacts": [str(contact.id)], "leads": [str(lead.id)],
                                       "addresses": ["erin@export.example"]}
        counts = {f["name"]: f["rows"] for f in manifest["files"]}
        assert set(counts) <= set(archive.namelist())
        assert [r["last_name"] for r in rows(archive, "contacts.json")] == ["Export"]
        assert [r["company"] for r in rows(archive, "leads.json")] == ["Erin Co"]
        assert [r["subject"] for r in rows(archive, "activities.json")] == ["Sent: Welcome", "Discovery call"]
        assert [r["title"] for r in rows(archive, "tasks.json")] == ["Send the deck"]
        assert [(r["name"], r["role"]) for r in rows(archive, "deals.json")] == [("Erin's deal", "champion")]
        [email] = rows(archive, "emails.json")
        assert (email["to_address"], email["subject"]) == ("erin@export.example", "Welcome")
        [original] = manifest["original_emails"]
        assert b"Hello Erin" in archive.read(original)
        assert [r["status"] for r in rows(archive, "sequence_enrollments.json")] == ["finished"]
        assert "sent" in {r["decision"] for r in rows(archive, "sequence_decisions.json")}
        assert rows(archive, "automation_decisions.json"), "the workflow's decisions about the contact"
        assert [r["purpose"] for r in rows(archive, "consent.json")] == ["profiling"]
        assert {"field_history.json", "audit.json"} <= set(archive.namelist())
        assert {r["record_id"] for r in rows(archive, "field_history.json")} == {str(contact.id), str(lead.id)}
        assert "consent.given" in {r["action"] for r in rows(archive, "audit.json")}
        everything = b"".join(archive.read(n) for n in archive.namelist())
        assert b"by@stander.example" not in everything and b"Not about Erin" not in everything

        session.expire_all()
        actions = {e.action: e for e in session.scalars(select(AuditEntry).where(AuditEntry.actor_id == admin.id))}
        assert actions["privacy.exported"].target_id == str(contact.id)
        assert actions["privacy.export_downloaded"].target_id == job_id

    def test_everyone_with_an_address_when_no_contact_is_named(self, session, factory, api, data_dir, admin):
        lead = factory.lead(None, last_name="Only", email="only@lead.example")
        factory.lead(None, last_name="Else", email="else@lead.example")
        session.commit()
        _job, archive = export(api, factory.headers(admin), {"email": " Only@Lead.example "})
        assert [r["id"] for r in rows(archive, "leads.json")] == [str(lead.id)]
        assert rows(archive, "contacts.json") == []


class TestWhoMayExport:
    @pytest.mark.parametrize("role", ["rep", "manager"])
    def test_only_admins_start_read_or_download_one(self, session, factory, api, data_dir, admin, role):
        person = factory.user(role=role)
        contact = factory.contact(person)
        session.commit()
        assert api.post("/api/v1/privacy/exports", headers=factory.headers(person),
                        json={"contact_id": str(contact.id)}).status_code == 403
        job_id, _archive = export(api, factory.headers(admin), {"contact_id": str(contact.id)})
        assert api.get(f"/api/v1/privacy/exports/{job_id}", headers=factory.headers(person)).status_code == 403
        assert api.get(f"/api/v1/privacy/exports/{job_id}/download", headers=factory.headers(person)).status_code == 403

    @pytest.mark.parametrize(("body", "status", "field"), [
        ({}, 422, "contact_id"),
        ({"email": "nobody@nowhere.example"}, 404, None),
        ({"contact_id": "not-a-uuid"}, 422, "contact_id"),
        ({"contact_id": str(uuid.uuid4())}, 404, None),
    ])
    def test_bad_requests_are_refused_and_start_nothing(self, session, factory, api, data_dir, admin, body, status, field):
        session.commit()
        response = api.post("/api/v1/privacy/exports", headers=factory.headers(admin), json=body)
        assert response.status_code == status, response.text
        if field:
            assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}
        assert jobs.recent_jobs(session, factory.actor(admin)) == []

    def test_an_unfinished_or_removed_export_is_not_found(self, session, factory, api, data_dir, admin):
        contact = factory.contact(None)
        session.commit()
        headers = factory.headers(admin)
        job_id = api.post("/api/v1/privacy/exports", headers=headers, json={"contact_id": str(contact.id)}).json()["id"]
        assert api.get(f"/api/v1/privacy/exports/{job_id}/download", headers=headers).status_code == 404
        run_worker()
        jobs.wait_for(uuid.UUID(job_id))
        assert api.get(f"/api/v1/privacy/exports/{job_id}/download", headers=headers).status_code == 200
        assert remove_old_exports(now=utcnow() + timedelta(days=KEEP_DAYS - 1)) == 0
        assert remove_old_exports(now=utcnow() + timedelta(days=KEEP_DAYS + 1)) == 1  # the daily run calls it
        assert not export_path(uuid.UUID(job_id)).exists()
        assert api.get(f"/api/v1/privacy/exports/{job_id}/download", headers=headers).status_code == 404
