"""The export of everything Pipewise holds about one person: a ZIP of JSON files (the
records, their field history, activities, tasks, e-mails with the original .eml files
the local outbox kept, sequence and workflow enrollments with every decision and its
explanation, the deals they are on, the consent ledger and the audit entries about
them) and a manifest saying what each file holds.

Only admins export: the file holds what every team did with the person (mail other
teams sent, the audit trail), more than anyone else may read. It runs as a background
job; every file is written row by row from a streamed query, so a person with many
thousands of activities never sits in memory at once. Starting an export and
downloading it are both audited. Finished exports are removed after ``KEEP_DAYS``."""

import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.audit.models import AuditEntry
from pipewise.auth.visibility import Actor
from pipewise.automation.models import Decision as AutomationDecision
from pipewise.automation.models import Enrollment as WorkflowEnrollment
from pipewise.config import get_settings
from pipewise.crm.models import Activity, Contact, Task
from pipewise.db.base import utcnow
from pipewise.db.session import session_scope
from pipewise.deals.models import Deal, DealContact
from pipewise.errors import NotFound, PermissionDenied, ValidationFailed
from pipewise.events import bus
from pipewise.jobs import service as jobs
from pipewise.jobs.models import Job
from pipewise.leads.models import Lead
from pipewise.mail.models import EmailMessage
from pipewise.mail.suppression import normalize_address
from pipewise.mail.transport import FileTransport, outbox_dir
from pipewise.privacy.models import ConsentEntry
from pipewise.records.models import RecordHistory
from pipewise.sequences.models import Enrollment as SequenceEnrollment
from pipewise.sequences.models import SequenceDecision

JOB_KIND = "subject_export"
TIMER = "privacy.export"
FORMAT = "pipewise-subject-export/1"
KEEP_DAYS = 7
FLUSH_EVERY = 500  # rows buffered before a write into the ZIP entry


@dataclass(frozen=True)
class Subject:
    """The records that are one person: their contacts and leads, and their addresses."""

    contact_ids: tuple[uuid.UUID, ...]
    lead_ids: tuple[uuid.UUID, ...]
    addresses: tuple[str, ...]
    label: str


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only admins may export everything held about a person")


def find_subject(session: Session, *, contact_id: uuid.UUID | None, email: str | None) -> Subject:
    """A contact (with the leads of its address or converted into it), or everyone with ``email``."""
    if contact_id is None and not (email and email.strip()):
        raise ValidationFailed.on("contact_id", "name a contact, or give an e-mail address")
    contacts: list[Contact] = []
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"no contact with id {contact_id}")
        contacts.append(contact)
    addresses = {normalize_address(a) for a in [email or "", *(c.email or "" for c in contacts)] if a.strip()}
    if contact_id is None:
        contacts = list(session.scalars(select(Contact).where(Contact.email.in_(addresses))))
    contact_ids = {c.id for c in contacts}
    leads = list(session.scalars(select(Lead).where(or_(
        Lead.email.in_(addresses) if addresses else false(),
        Lead.converted_contact_id.in_(contact_ids) if contact_ids else false()))))
    if not contacts and not leads:
        raise NotFound(f"no contact or lead has the address {email}")
    named = contacts[0] if contacts else leads[0]
    return Subject(tuple(sorted(contact_ids)), tuple(sorted({lead.id for lead in leads})), tuple(sorted(addresses)),
                   named.full_name or named.email or str(named.id))


def _about(type_column: Any, id_column: Any, subject: Subject, *, as_text: bool = False) -> Any:
    """Rows whose (type, id) names one of the subject's records."""
    clauses = []
    for kind, ids in (("contact", subject.contact_ids), ("lead", subject.lead_ids)):
        if ids:
            clauses.append((type_column == kind) & id_column.in_([str(i) for i in ids] if as_text else ids))
    return or_(*clauses) if clauses else false()


def _linked(column: Any, ids: tuple[uuid.UUID, ...]) -> Any:
    return column.in_(ids) if ids else false()


def sections(subject: Subject) -> list[tuple[str, str, Select[Any]]]:
    """(file name, what it holds, query) for every JSON file of the export."""
    c, leads = subject.contact_ids, subject.lead_ids
    mail = or_(_linked(EmailMessage.contact_id, c), EmailMessage.to_address.in_(subject.addresses),
               EmailMessage.from_address.in_(subject.addresses))
    deals = or_(_linked(DealContact.contact_id, c),
                Deal.id.in_(select(Lead.converted_deal_id).where(_linked(Lead.id, leads))))
    return [
        ("contacts.json", "the contact records", select(Contact.__table__).where(_linked(Contact.id, c))),
        ("leads.json", "the lead records", select(Lead.__table__).where(_linked(Lead.id, leads))),
        ("field_history.json", "every change to those records, field by field",
         select(RecordHistory.__table__).where(_about(RecordHistory.record_type, RecordHistory.record_id, subject))
         .order_by(RecordHistory.id)),
        ("activities.json", "calls, e-mails, meetings and notes logged about them",
         select(Activity.__table__).where(or_(_linked(Activity.contact_id, c), _linked(Activity.lead_id, leads)))
         .order_by(Activity.occurred_at, Activity.id)),
        ("tasks.json", "tasks about them",
         select(Task.__table__).where(_about(Task.related_type, Task.related_id, subject)).order_by(Task.created_at)),
        ("emails.json", "e-mails to and from them (the ledger; originals under emails/)",
         select(EmailMessage.__table__).where(mail).order_by(EmailMessage.created_at, EmailMessage.id)),
        ("sequence_enrollments.json", "sequences they were enrolled in",
         select(SequenceEnrollment.__table__).where(_linked(SequenceEnrollment.contact_id, c))),
        ("sequence_decisions.json", "every sequence decision about them, with its reason",
         select(SequenceDecision.__table__).where(_linked(SequenceDecision.contact_id, c)).order_by(SequenceDecision.id)),
        ("workflow_enrollments.json", "workflows that ran on their records",
         select(WorkflowEnrollment.__table__).where(_about(WorkflowEnrollment.record_type, WorkflowEnrollment.record_id, subject))),
        ("automation_decisions.json", "every automation decision about them, with its explanation",
         select(AutomationDecision.__table__)
         .where(_about(AutomationDecision.record_type, AutomationDecision.record_id, subject)).order_by(AutomationDecision.id)),
        ("deals.json", "deals they are on (role: their part in the deal)",
         select(Deal.__table__, DealContact.role).outerjoin(DealContact, (DealContact.deal_id == Deal.id)
                                                             & _linked(DealContact.contact_id, c)).where(deals).distinct()),
        ("consent.json", "their consent ledger",
         select(ConsentEntry.__table__).where(_about(ConsentEntry.subject_type, ConsentEntry.subject_id, subject))
         .order_by(ConsentEntry.id)),
        ("audit.json", "audit entries about their records",
         select(AuditEntry.__table__).where(_about(AuditEntry.target_type, AuditEntry.target_id, subject, as_text=True))
         .order_by(AuditEntry.id)),
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_json_array(zf: zipfile.ZipFile, name: str, rows: Iterable[Mapping[str, Any]],
                     on_row: Callable[[], None] = lambda: None) -> int:
    """``rows`` as one JSON array in the ZIP entry ``name``, written as they come."""
    count, chunk = 0, ["["]
    with zf.open(name, "w", force_zip64=True) as fh:
        for row in rows:
            chunk.append(("," if count else "") + "\n" + json.dumps(dict(row), default=_plain, ensure_ascii=False))
            count += 1
            on_row()
            if len(chunk) >= FLUSH_EVERY:
                fh.write("".join(chunk).encode())
                chunk = []
        chunk.append("\n]\n")
        fh.write("".join(chunk).encode())
    return count


def export_path(job_id: uuid.UUID) -> Path:
    return Path(get_settings().data_dir) / "exports" / f"{job_id}.zip"


def write_export(path: Path, subject: Subject, *, generated_by: str,
                 progress: Callable[[int, int | None, str | None], None] = lambda d, t, s: None) -> dict[str, Any]:
    """Write the ZIP to ``path`` (complete or absent) and return its manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    files: list[dict[str, Any]] = []
    with session_scope(write=False) as session, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        parts = sections(subject)
        total = sum(int(session.scalar(select(func.count()).select_from(q.subquery())) or 0) for _n, _w, q in parts)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if done % FLUSH_EVERY == 0:
                progress(done, total, None)

        for name, what, query in parts:
            progress(done, total, f"Writing {name}")
            rows = session.execute(query.execution_options(yield_per=1000)).mappings()
            files.append({"name": name, "holds": what, "rows": write_json_array(zf, name, rows, tick)})
        originals = _originals(session, subject, zf)
        manifest = {
            "format": FORMAT, "generated_at": utcnow().isoformat(), "generated_by": generated_by,
            "subject": {"contacts": [str(i) for i in subject.contact_ids], "leads": [str(i) for i in subject.lead_ids],
                        "addresses": list(subject.addresses)},
            "files": files, "original_emails": originals,
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    os.replace(partial, path)
    return manifest


def _originals(session: Session, subject: Subject, zf: zipfile.ZipFile) -> list[str]:
    """The .eml files the local outbox kept of the subject's outbound mail, under emails/."""
    folder, written = outbox_dir(), []
    stmt = select(EmailMessage.message_id).where(EmailMessage.direction == "outbound", or_(
        _linked(EmailMessage.contact_id, subject.contact_ids), EmailMessage.to_address.in_(subject.addresses)))
    for message_id in session.scalars(stmt.execution_options(yield_per=1000)):
        name = FileTransport.filename(message_id)
        if (folder / name).is_file():
            zf.write(folder / name, f"emails/{name}")
            written.append(f"emails/{name}")
    return written


def start(session: Session, *, contact_id: uuid.UUID | None, email: str | None, actor: Actor) -> Job:
    """Start an export (in the caller's transaction): the worker picks it up once that
    commits and hands it to a background thread that reports its progress."""
    require_admin(actor)
    subject = find_subject(session, contact_id=contact_id, email=email)
    job = jobs.start(session, kind=JOB_KIND, title=f"Export of everything held about {subject.label}", actor=actor)
    job.result_url = f"/privacy/exports/{job.id}/download"
    target_type, target_id = ("contact", subject.contact_ids[0]) if subject.contact_ids else ("lead", subject.lead_ids[0])
    details = {"contacts": [str(i) for i in subject.contact_ids], "leads": [str(i) for i in subject.lead_ids]}
    audit.log(session, "privacy.exported", actor=actor, summary=f"export of everything held about {subject.label}",
              target_type=target_type, target_id=target_id, details={"job_id": str(job.id), **details})
    bus.schedule(session, key=f"{TIMER}:{job.id}", kind=TIMER, run_at=utcnow(), payload={
        "job_id": str(job.id), **details, "addresses": list(subject.addresses), "label": subject.label,
        "generated_by": audit.actor_label(actor)})
    return job


def run_export(session: Session, action: Any) -> None:
    """The worker's part: hand the export to a background thread once this commits (its
    progress reports are short transactions of their own)."""
    payload = action.payload
    job_id = uuid.UUID(payload["job_id"])
    subject = Subject(tuple(uuid.UUID(i) for i in payload["contacts"]), tuple(uuid.UUID(i) for i in payload["leads"]),
                      tuple(payload["addresses"]), payload["label"])

    def work(progress: jobs.Progress) -> str | None:
        write_export(export_path(job_id), subject, generated_by=payload["generated_by"],
                     progress=lambda done, total, step: progress(done, total, step=step))
        return None

    jobs.run_after_commit(session, job_id, work)


TABLE = bus.HandlerTable(timers={TIMER: bus.ActionKind(run_export, rerun_safe=True)})


def export_job(session: Session, job_id: uuid.UUID, *, actor: Actor) -> Job:
    require_admin(actor)
    job = jobs.visible_job(session, job_id, actor)
    if job.kind != JOB_KIND:
        raise NotFound(f"no export with id {job_id}")
    return job


def download(session: Session, job_id: uuid.UUID, *, actor: Actor) -> Path:
    """The finished export's file; the download is audited."""
    job = export_job(session, job_id, actor=actor)
    path = export_path(job.id)
    if job.status != "done" or not path.is_file():
        raise NotFound("this export is not ready (or was removed after "
                       f"{KEEP_DAYS} days): see its progress, or start a new one")
    audit.log(session, "privacy.export_downloaded", actor=actor, summary=f"export downloaded: {job.title}",
              target_type="job", target_id=job.id)
    return path


def remove_old_exports(now: datetime | None = None) -> int:
    """Delete export files older than ``KEEP_DAYS`` (they hold personal data); how many."""
    folder = export_path(uuid.UUID(int=0)).parent
    if not folder.is_dir():
        return 0
    cutoff = ((now or utcnow()) - timedelta(days=KEEP_DAYS)).timestamp()
    removed = 0
    for file in folder.glob("*.zip"):
        if file.stat().st_mtime < cutoff:
            file.unlink(missing_ok=True)
            removed += 1
    return removed

