"""Data-subject export of a contact with 10,000 activities.

    python -m bench.subject_export [--activities 10000] [--repeats 3] [--postgres URL]
    python -m bench --only subject_export

Seeds one contact with ``--activities`` activities (notes with a paragraph of text), 200
e-mails in the ledger with their .eml files in the local outbox, 50 tasks, a lead with
the same address and 300 field-history rows, beside 20,000 activities of other contacts.
Times, as the export job does it, writing the whole ZIP (``subject_export.write_export``:
every section's query streamed row by row into the archive, the .eml files copied, the
manifest), and the same through the API: POST /api/v1/privacy/exports, the worker
picking it up, the background job to ``done``, and the download. Beside it, the raw
floor: the bare driver SELECTs the same contact's activities, e-mails and history and
``json.dumps`` them into one string (no ZIP, no other tables). Peak Python memory of the
export is measured in a separate run (tracemalloc slows it down)."""

import argparse
import json
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import raw
from bench.env import SQLITE, Target, fresh_database, postgres_target
from bench.report import Figure, Section
from bench.seed import seed_people

TARGET_MS = 60_000.0  # issue 17: a contact with 10,000 activities in under 60 s
OTHER_ACTIVITIES = 20_000
EMAILS, TASKS, HISTORY = 200, 50, 300
BODY = "Talked through the roll-out plan, the security review and who signs. " * 4


def seed(activities: int) -> tuple[uuid.UUID, str]:
    """The subject and everyone else; returns the contact's id and the admin's token."""
    from sqlalchemy import insert

    from pipewise.auth.visibility import SYSTEM_ACTOR
    from pipewise.crm.models import Activity
    from pipewise.crm.service import contact_service
    from pipewise.db.base import utcnow, uuid7
    from pipewise.db.session import session_scope
    from pipewise.leads.service import lead_service
    from pipewise.mail.models import EmailMessage
    from pipewise.mail.transport import FileTransport, outbox_dir
    from pipewise.records.models import RecordHistory
    from pipewise.crm.models import Task

    people = seed_people(teams=1, reps_per_team=2)
    owner = people.reps[0].id
    now = utcnow()
    with session_scope() as session:
        subject = contact_service.create(session, data={"first_name": "Sam", "last_name": "Subject",
                                                        "email": "sam@subject.example", "owner_id": owner}, actor=SYSTEM_ACTOR)
        others = [contact_service.create(session, data={"last_name": f"Other {n}", "email": f"o{n}@other.example",
                                                        "owner_id": owner}, actor=SYSTEM_ACTOR) for n in range(20)]
        lead_service.create(session, data={"last_name": "Subject", "email": "sam@subject.example", "company": "Sam Co"},
                            actor=SYSTEM_ACTOR)
        session.flush()

        def activity(n: int, contact_id: uuid.UUID) -> dict[str, Any]:
            moment = now - timedelta(minutes=n)
            return {"id": uuid7(), "type": "note", "subject": f"Note {n}", "body": BODY, "occurred_at": moment,
                    "owner_id": owner, "contact_id": contact_id, "automated": False, "custom": {}, "created_at": moment,
                    "updated_at": moment, "version": 1}

        rows = [activity(n, subject.id) for n in range(activities)]
        rows += [activity(n, others[n % len(others)].id) for n in range(OTHER_ACTIVITIES)]
        for start in range(0, len(rows), 5000):
            session.execute(insert(Activity.__table__), rows[start:start + 5000])
        outbox = outbox_dir()
        outbox.mkdir(parents=True, exist_ok=True)
        mails = []
        for n in range(EMAILS):
            message_id = f"<bench-{n}-{uuid.uuid4().hex}@bench.example>"
            mails.append({"id": uuid7(), "message_id": message_id, "direction": "outbound", "kind": "manual",
                          "status": "sent", "contact_id": subject.id, "sender_id": owner, "from_address": "rep@bench.example",
                          "to_address": "sam@subject.example", "subject": f"Follow-up {n}", "body_text": BODY,
                          "automated": False, "attempts": 1, "open_count": 0, "click_count": 0, "mentions_pricing": False,
                          "created_at": now, "updated_at": now})
            (outbox / FileTransport.filename(message_id)).write_text(f"Subject: Follow-up {n}\r\n\r\n{BODY}\r\n")
        session.execute(insert(EmailMessage.__table__), mails)
        session.execute(insert(Task.__table__), [
            {"id": uuid7(), "title": f"Task {n}", "status": "open", "priority": "normal", "owner_id": owner,
             "related_type": "contact", "related_id": subject.id, "custom": {}, "created_at": now, "updated_at": now,
             "version": 1} for n in range(TASKS)])
        session.execute(insert(RecordHistory.__table__), [
            {"record_type": "contact", "record_id": subject.id, "action": "updated", "changes": {"title": [None, f"T{n}"]},
             "actor_id": owner, "at": now} for n in range(HISTORY)])
        return subject.id, people.admin.token


def export_once(contact_id: uuid.UUID, folder: Path, activities: int) -> float:
    from pipewise.db.session import session_scope
    from pipewise.privacy import subject_export

    started = time.perf_counter()
    with session_scope(write=False) as session:
        subject = subject_export.find_subject(session, contact_id=contact_id, email=None)
    manifest = subject_export.write_export(folder / f"{uuid.uuid4()}.zip", subject, generated_by="bench")
    elapsed = (time.perf_counter() - started) * 1000
    counts = {f["name"]: f["rows"] for f in manifest["files"]}
    assert counts["activities.json"] == activities, counts
    return elapsed


def through_api(contact_id: uuid.UUID, token: str) -> float:
    from fastapi.testclient import TestClient

    from pipewise.app import create_app
    from pipewise.jobs import service as jobs
    from pipewise.worker.runner import Worker

    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(start_worker=False)) as client:
        started = time.perf_counter()
        job = client.post("/api/v1/privacy/exports", headers=headers, json={"contact_id": str(contact_id)}).json()
        Worker(name="bench").run_until_idle()
        jobs.wait_for(uuid.UUID(job["id"]), timeout=600)
        download = client.get(f"/api/v1/privacy/exports/{job['id']}/download", headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert download.status_code == 200, download.text
    return elapsed


def raw_floor(url: str, contact_id: uuid.UUID) -> float:
    conn = raw.connect(url)
    p = "?" if raw.is_sqlite(conn) else "%s"
    key: Any = contact_id.hex if raw.is_sqlite(conn) else contact_id
    started = time.perf_counter()
    parts = []
    for sql in (f"SELECT * FROM activity WHERE contact_id = {p} ORDER BY occurred_at, id",
                f"SELECT * FROM email_message WHERE contact_id = {p} ORDER BY created_at, id",
                f"SELECT * FROM record_history WHERE record_id = {p} ORDER BY id"):
        cursor = conn.execute(sql, (key,))
        names = [d[0] for d in cursor.description]
        parts.append(json.dumps([dict(zip(names, row, strict=True)) for row in cursor.fetchall()], default=str))
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    assert len(parts[0]) > 1000
    return elapsed


def peak_memory_mb(contact_id: uuid.UUID, folder: Path, activities: int) -> float:
    tracemalloc.start()
    export_once(contact_id, folder, activities)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def run(target: Target, activities: int, repeats: int) -> list[Figure]:
    import os

    from pipewise.config import get_settings

    folder = Path(tempfile.mkdtemp(prefix="pipewise-bench-export-"))
    os.environ["PIPEWISE_DATA_DIR"] = str(folder)
    os.environ["PIPEWISE_OUTBOX_DIR"] = str(folder / "outbox")
    get_settings.cache_clear()
    url = fresh_database(target, "subject_export")
    contact_id, token = seed(activities)
    exports = sorted(export_once(contact_id, folder, activities) for _ in range(repeats))
    api = sorted(through_api(contact_id, token) for _ in range(repeats))
    floor = sorted(raw_floor(url, contact_id) for _ in range(repeats))
    memory = peak_memory_mb(contact_id, folder, activities)
    print(f"    peak Python memory of one export: {memory:.1f} MB")
    floor_label = "raw SELECT of the activities, e-mails and history + json.dumps"
    return [
        Figure(target.label, f"export ZIP of a contact with {activities:,} activities, median", exports[len(exports) // 2],
               "ms", floor_label, floor[len(floor) // 2], TARGET_MS),
        Figure(target.label, "the same through the API, worker and job, to the download, median", api[len(api) // 2],
               "ms", floor_label, floor[len(floor) // 2], TARGET_MS),
    ]


def section(activities: int) -> Section:
    return Section(key="subject_export", title="Privacy: data-subject export",
                   description=__doc__.split("\n\n", 2)[2].replace("\n", " "),
                   size=f"{activities:,} activities of the subject, {OTHER_ACTIVITIES:,} of others, {EMAILS} e-mails")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subject_export", description=__doc__)
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (wiped; name must contain 'bench')")
    args = parser.parse_args()
    targets = [SQLITE] + ([postgres_target(args.postgres)] if args.postgres else [])
    print("| database | case | measured | raw floor | ratio | target |\n|---|---|---:|---:|---:|---|")
    for target in targets:
        for f in run(target, args.activities, args.repeats):
            met = "met" if f.met else "missed"
            print(f"| {f.database} | {f.case} | {f.value:,.0f} ms | {f.baseline:,.0f} ms | {f.ratio:.1f}× | < 60 s: {met} |")


if __name__ == "__main__":
    main()
