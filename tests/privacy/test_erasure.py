"""Erasure end to end: a contact who had e-mails (sent through the real mail path into the
.eml outbox, and a reply received), a sequence, a workflow (which also calls a real
webhook receiver with their record), field history, activities, a
task, a deal and a posted invoice is erased through the API; then a full dump of the
database (SQLite's ``.dump``, or ``pg_dump``) and every file in the data folder hold
their e-mail address and phone number 0 times, the invoice keeps its number and totals
with a pseudonymised buyer, nothing mails the address again, a second erasure changes
nothing and a failed one leaves everything as it was."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from pipewise.audit.models import AuditEntry
from pipewise.automation.models import Decision
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.billing.documents import invoice_document
from pipewise.billing.models import Invoice
from pipewise.config import get_settings
from pipewise.crm.models import Contact
from pipewise.db.session import session_scope
from pipewise.errors import Conflict
from pipewise.mail import compose
from pipewise.mail.models import EmailMessage, Suppression
from pipewise.mail.suppression import hashed_address, refusal
from pipewise.mail.transport import outbox_dir
from pipewise.jobs import service as jobs
from pipewise.privacy import erasure
from pipewise.privacy.subject_export import export_path
from pipewise.records.personal_data import register_scrubbed_columns, unregister_scrubbed_columns
from pipewise.sequences import inbound
from pipewise.sequences.service import sequence_service
from tests.automation.receiver import running_receiver
from tests.automation.support import drain, make_workflow
from tests.billing import builders
from tests.integrations.webhooks.receiver import running_receiver as running_subscriber
from tests.sequences.support import email_step, live_sequence, mailbox

ON_NEW_CONTACT = {"type": "record_created", "record_type": "contact"}
WELCOME = [{"id": "hello", "type": "send_email", "subject": "Welcome {{ record.first_name }} {{ record.last_name }}",
            "body": "Hello {{ record.first_name }}, we have {{ record.email }} and {{ record.phone }} on file."}]
HOOK_SECRET = "erasure-test-secret"


class Person:
    def __init__(self) -> None:
        word = uuid.uuid4().hex[:8]
        self.first, self.last = "Zoë", f"Quillfeather{word}"
        self.email = f"Zoe.Q{word}@Erase-Me.example"
        self.typed_phone = f"+49 30 {int(word, 16) % 90000000 + 10000000}"
        self.e164 = self.typed_phone.replace(" ", "")
        self.old_phone = f"+1 415 555 {int(word, 16) % 9000 + 1000}"

    def traces(self) -> list[str]:
        """The e-mail address and the phone numbers in every form they were stored."""
        digits = self.e164.lstrip("+")
        return [self.email, self.email.lower(), self.e164, self.typed_phone, digits,
                self.old_phone.replace(" ", ""), self.old_phone, self.last]


def reply(person: Person, to: str, message_id: str) -> bytes:
    return (f"From: {person.first} {person.last} <{person.email}>\r\nTo: {to}\r\nSubject: Re: Welcome\r\n"
            f"Message-ID: <reply.{uuid.uuid4().hex}@erase-me.example>\r\nIn-Reply-To: {message_id}\r\n\r\n"
            f"Thanks! Call me on {person.typed_phone}.\r\n").encode()


@pytest.fixture
def receiver(monkeypatch):  # type: ignore[no-untyped-def]
    """A real HTTP endpoint on loopback (which an operator allows here) for the workflow's webhook."""
    monkeypatch.setenv("PIPEWISE_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()
    with running_receiver(HOOK_SECRET) as running:
        yield running
    monkeypatch.delenv("PIPEWISE_OUTBOUND_ALLOW")
    get_settings.cache_clear()


@pytest.fixture
def subscriber():  # type: ignore[no-untyped-def]
    """A webhook subscription's receiver (Standard Webhooks), beside the workflow's."""
    with running_subscriber() as running:
        yield running


@pytest.fixture
def world(session, factory, api, receiver, subscriber):  # type: ignore[no-untyped-def]
    """The person, with everything a CRM keeps about someone it worked with."""
    admin = factory.user(role="admin", name="Ada Admin")
    rep = factory.user(name="Rita Rep")
    mailbox(session, admin)
    mailbox(session, rep)
    hook = {"id": "hook", "type": "webhook", "url": receiver.url, "secret": HOOK_SECRET}
    make_workflow(session, {"trigger": ON_NEW_CONTACT, "steps": [*WELCOME, hook]}, actor=factory.actor(admin))
    sequence = live_sequence(session, "Nurture", [email_step("Hi {{ contact.first_name }}", "<p>Dear {{ contact.last_name }}</p>")])
    account = factory.account(rep, name="Erase Co")
    factory.pipeline()
    session.commit()
    person = Person()
    rep_h, admin_h = factory.headers(rep), factory.headers(admin)
    endpoint = api.post("/api/v1/webhooks", headers=admin_h, json={"url": subscriber.url, "event_types": ["contact.*"]})
    assert endpoint.status_code == 201, endpoint.text
    subscriber.secrets.append(endpoint.json()["secret"])

    created = api.post("/api/v1/contacts", headers=rep_h, json={
        "first_name": person.first, "last_name": person.last, "email": person.email, "phone": person.old_phone,
        "title": "Buyer", "account_id": str(account.id)})
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    changed = api.patch(f"/api/v1/contacts/{contact_id}", headers={**rep_h, "If-Match": created.headers["etag"]},
                        json={"phone": person.typed_phone})
    assert changed.status_code == 200, changed.text
    assert api.post("/api/v1/tasks", headers=rep_h, json={
        "title": f"Send {person.first} {person.last} the brochure", "notes": person.email,
        "related_type": "contact", "related_id": contact_id}).status_code == 201
    enrolled = api.post(f"/api/v1/sequences/{sequence.id}/enrollments", headers=admin_h, json={"contact_ids": [contact_id]})
    assert enrolled.status_code == 200, enrolled.text
    drain(session)  # the workflow's welcome and the sequence's first step go out, as .eml files
    assert api.post("/api/v1/activities", headers=rep_h, json={
        "type": "call", "subject": f"Call with {person.first} {person.last}",
        "body": f"Reached on {person.typed_phone}, wants a quote at {person.email}", "contact_id": contact_id}).status_code == 201

    deal = factory.deal(rep, name=f"Deal for {person.first} {person.last}", account_id=account.id)
    builders.deal_line(session, deal, builders.product(session), "2", "50.00")
    session.commit()
    assert api.post(f"/api/v1/deals/{deal.id}/contacts", headers=rep_h, json={"contact_id": contact_id}).status_code == 204
    invoice = api.post("/api/v1/invoices/from-deal", json={"deal_id": str(deal.id)}, headers=rep_h).json()
    assert api.patch(f"/api/v1/invoices/{invoice['id']}", headers=admin_h,
                     json={"notes": f"Attn. {person.first} {person.last}, {person.email}"}).status_code == 200
    posted = api.post(f"/api/v1/invoices/{invoice['id']}/post", headers=admin_h)
    assert posted.status_code == 200, posted.text

    drain(session)
    sent = list(session.scalars(select(EmailMessage).where(EmailMessage.contact_id == uuid.UUID(contact_id))))
    assert len(sent) == 2 and all(m.status == "sent" for m in sent)
    with session_scope() as s:
        assert inbound.process(s, reply(person, sent[0].from_address, sent[0].message_id)).kind == "reply"
    drain(session)
    assert [b["record"]["email"] for b in receiver.bodies.values()] == [person.email.lower()]  # the webhook carried them
    assert any(person.email.lower() in json.dumps(d.payload).lower() for d in subscriber.accepted)  # and the subscription
    # A consent withdrawal whose note names them, and an export of everything about them.
    assert api.post(f"/api/v1/contacts/{contact_id}/consent/withdraw", headers=rep_h, json={
        "purpose": "profiling", "note": f"{person.first} {person.last} asked on {person.typed_phone}"}).status_code == 201
    export = api.post("/api/v1/privacy/exports", headers=admin_h, json={"contact_id": contact_id})
    assert export.status_code == 202, export.text
    drain(session)
    jobs.wait_for(uuid.UUID(export.json()["id"]))
    assert export_path(uuid.UUID(export.json()["id"])).is_file()
    files = list(outbox_dir().glob("*.eml"))
    assert sum(person.email.lower() in f.read_text().lower() for f in files) == 2
    return {"person": person, "contact_id": contact_id, "export_id": export.json()["id"], "invoice": posted.json(), "admin": admin_h, "rep": rep_h,
            "sequence": sequence, "admin_user": admin}


def dump_database() -> str:
    """Every row of every table, as the database's own dump tool writes it."""
    url = get_settings().database_url
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database) as connection:
            return "\n".join(connection.iterdump())
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed for the PostgreSQL variant"
    parsed = make_url(url)
    result = subprocess.run(
        [pg_dump, "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres",
         "--data-only", "--inserts", parsed.database or ""],
        capture_output=True, check=True, env={**os.environ, "PGPASSWORD": parsed.password or ""})
    # Without the per-run \restrict key pg_dump puts around the dump.
    return "\n".join(line for line in result.stdout.decode().splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


# Run in a process of its own: closing a file descriptor drops every POSIX lock that the
# closing process holds on that file, SQLite's on the database and its -shm among them.
# Read here, the test process would go on unlocked, and the next process to open the
# database would take it for unused and cut the shared log index under this one (SIGBUS).
_SCAN = """
import json, sys
from pathlib import Path
folder, needles = Path(sys.argv[1]), json.loads(sys.argv[2])
hits = {}
for path in folder.rglob("*"):
    if path.is_file():
        content = path.read_bytes().lower()
        found = [n for n in needles if n.lower().encode() in content]
        if found:
            hits[str(path.relative_to(folder))] = found
print(json.dumps(hits))
"""


def data_folder_hits(needles: list[str]) -> dict[str, list[str]]:
    """Files of the data folder (the outbox's folder, which holds a SQLite database too)
    that contain any of ``needles``, byte for byte (case-insensitive)."""
    folder = Path(outbox_dir()).parent
    scan = subprocess.run([sys.executable, "-c", _SCAN, str(folder), json.dumps(needles)],
                          capture_output=True, check=True, text=True)
    return json.loads(scan.stdout)


def test_after_erasure_the_dump_and_the_data_folder_hold_none_of_their_details(world, api, session):
    person, contact_id = world["person"], world["contact_id"]
    assert [n for n in person.traces() if n.lower() in dump_database().lower()], "the arrangement stored the details"

    dry = api.post(f"/api/v1/contacts/{contact_id}/erase", headers=world["admin"], json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    counts = dry.json()["counts"]
    # the call, and the timeline's entries of the two e-mails sent and of the reply; the
    # brochure task and the one the reply made; the enrollment already ended on the reply
    assert counts["contact"] == 1 and counts["activities"] == 4 and counts["tasks"] == 2 and counts["emails"] == 3
    assert counts["eml_files"] == 2 and counts["sequence_decision"] >= 1 and counts["record_history"] >= 2
    assert counts["invoice"] == 1 and counts["outbox_event"] >= 1 and counts["audit_entry"] >= 1
    assert person.last.lower() in dump_database().lower(), "a dry run changes nothing"

    session.rollback()  # no reader holds on to old pages while the erased database file is rebuilt
    done = api.post(f"/api/v1/contacts/{contact_id}/erase", headers=world["admin"], json={})
    assert done.status_code == 200, done.text
    assert done.json()["already_erased"] is False and done.json()["counts"]["contact"] == 1

    dump = dump_database().lower()
    assert {n: dump.count(n.lower()) for n in person.traces()} == {n: 0 for n in person.traces()}
    assert data_folder_hits(person.traces()) == {}
    assert not export_path(uuid.UUID(world["export_id"])).exists()
    # One hashed suppression entry, and nothing plain.
    rows = list(session.scalars(select(Suppression)))
    assert [r.address for r in rows] == [hashed_address(person.email)]

    # The invoice stays under legal hold: number and totals as posted, its buyer a pseudonym.
    invoice = api.get(f"/api/v1/invoices/{world['invoice']['id']}", headers=world["admin"]).json()
    assert (invoice["number"], invoice["gross_total"], invoice["status"]) == (
        world["invoice"]["number"], world["invoice"]["gross_total"], "posted")
    assert invoice["notes"].startswith("Attn. Erased person")
    buyer = invoice_document(session, session.get(Invoice, uuid.UUID(invoice["id"]))).buyer
    assert (buyer.name, buyer.contact_name, buyer.email, buyer.phone) == ("Erase Co", done.json()["pseudonym"], None, None)
    assert api.get(f"/api/v1/invoices/{invoice['id']}/documents/pdf", headers=world["admin"]).status_code == 200

    # The audit entry of the erasure names the contact by id only.
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.erased"))
    assert entry is not None and entry.target_id == contact_id and person.email.lower() not in str(entry.details).lower()


def test_nothing_mails_the_address_again(world, api, session, factory):
    person = world["person"]
    assert api.post(f"/api/v1/contacts/{world['contact_id']}/erase", headers=world["admin"], json={}).status_code == 200
    # The same person comes back (an import, a form): sequence, workflow and manual mail refuse them.
    again = factory.contact(last_name="Returning", email=person.email)
    session.commit()
    assert refusal(session, person.email.upper(), again) == "the address is on the suppression list (erased)"
    manual = compose.Letter(to_address=person.email, subject="Hello again", text="Hi", kind="manual", automated=False,
                            contact=again, sender_id=world["admin_user"].id)
    with pytest.raises(compose.Refused, match="suppression list"):
        compose.queue(session, manual, immediately=False)
    with pytest.raises(Conflict, match="the address is on the suppression list"):
        sequence_service.enroll(session, sequence_id=world["sequence"].id, contact_id=again.id, actor=SYSTEM_ACTOR)
    session.rollback()
    before = {p.name for p in outbox_dir().glob("*.eml")}
    drain(session)  # the workflow on new contacts tries to welcome them
    assert {p.name for p in outbox_dir().glob("*.eml")} == before
    assert session.scalar(select(func.count()).select_from(EmailMessage).where(EmailMessage.contact_id == again.id)) == 0
    decision = session.scalars(select(Decision).where(Decision.record_id == again.id).order_by(Decision.id.desc())).first()
    assert decision is not None and "suppression list" in decision.message, decision and decision.message


def test_a_second_erasure_changes_nothing(world, api, session):
    first = api.post(f"/api/v1/contacts/{world['contact_id']}/erase", headers=world["admin"], json={})
    dump = dump_database()
    second = api.post(f"/api/v1/contacts/{world['contact_id']}/erase", headers=world["admin"], json={})
    assert second.status_code == 200 and second.json()["already_erased"] is True
    assert second.json()["counts"] == first.json()["counts"]
    assert dump_database() == dump


def test_a_failed_erasure_leaves_everything_as_it_was(world, session):
    person, contact_id = world["person"], uuid.UUID(world["contact_id"])
    files = sorted(p.name for p in outbox_dir().glob("*.eml"))
    register_scrubbed_columns("webhook_delivery_not_there", ["body"])  # a registration gone wrong, met mid-way
    try:
        with pytest.raises(Exception, match="webhook_delivery_not_there"):
            with session_scope() as s:
                erasure.erase(s, contact_id, actor=world_admin(s, world))
    finally:
        unregister_scrubbed_columns("webhook_delivery_not_there")
    session.rollback()  # a fresh look, past this session's earlier snapshot
    session.expire_all()
    assert session.get(Contact, contact_id).email == person.email.lower()
    assert session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert sorted(p.name for p in outbox_dir().glob("*.eml")) == files
    assert person.last.lower() in dump_database().lower()


def world_admin(session, world):  # type: ignore[no-untyped-def]
    from pipewise.auth.visibility import Actor

    return Actor.for_user(session, session.merge(world["admin_user"]))


def test_only_admins_erase(world, api):
    refused = api.post(f"/api/v1/contacts/{world['contact_id']}/erase", headers=world["rep"], json={"dry_run": True})
    assert refused.status_code == 403
    assert api.post(f"/api/v1/contacts/{uuid.uuid4()}/erase", headers=world["admin"], json={}).status_code == 404
    bad = api.post(f"/api/v1/contacts/{world['contact_id']}/erase", headers=world["admin"], json={"dry_run": "maybe"})
    assert bad.status_code == 422
