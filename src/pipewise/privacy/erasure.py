"""Erasure of a data subject (GDPR art. 17): ``erase(session, contact_id, actor=...)``.

The person is a contact and the leads that are the same person (the lead converted into
the contact, and leads with one of the contact's e-mail addresses). What identifies them
(every e-mail address and phone number they had, per their field history, and their full
names) is gathered first; then, in the caller's transaction, so that a failure leaves
nothing half-erased:

- their own records become tombstones (contact and leads keep their id, links, owner and
  stage; names, addresses, numbers and custom fields go), their activities and tasks
  keep their kind and time but lose their text, their e-mails keep their status and
  times but lose addresses, subject and body, and their attachments and ``.eml`` files go;
- their sequence and workflow enrollments end; match keys and duplicate candidates go;
- every registered text and JSON column (``records.personal_data``: field history, the
  outbox, scheduled payloads, decisions, notifications, invoices' notes, webhook logs …)
  has their details replaced by the pseudonym, and so do the audit entries (the audit
  trail's own, recorded exception to append-only);
- their addresses stay on the suppression list as hashes only, so nothing mails them again;
- invoices stay (legal hold): numbers and amounts untouched, the buyer now the pseudonym.

A second erasure of the same contact changes nothing and answers with the first's record.
``dry_run`` counts what would change, per place, and changes nothing."""

import logging
import secrets
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.auth.visibility import Actor
from pipewise.automation.models import Enrollment
from pipewise.crm.models import Activity, Contact, Task
from pipewise.db import wal
from pipewise.db.base import utcnow
from pipewise.db.session import get_engine
from pipewise.db.unit_of_work import unit_of_work
from pipewise.errors import NotFound, PermissionDenied
from pipewise.events.models import ScheduledAction
from pipewise.leads.models import DuplicateCandidate, FormSubmission, Lead, MatchKey
from pipewise.mail import suppression
from pipewise.mail.models import EmailAttachment, EmailMessage
from pipewise.meetings.models import Meeting, MeetingAttendee
from pipewise.privacy.erasure_files import eml_files, export_files
from pipewise.privacy.erasure_models import Erasure
from pipewise.privacy.erasure_scrub import ERASED, Pseudonyms, scrub_table
from pipewise.quotes.models import Quote, QuoteResponse
from pipewise.records.history import record_change
from pipewise.records.models import RecordHistory
from pipewise.records.personal_data import scrubbed_columns
from pipewise.scoring.models import EngagementEvent
from pipewise.sequences import engine as sequence_engine
from pipewise.sequences.models import Enrollment as SequenceEnrollment

log = logging.getLogger("pipewise.privacy")
IDENTITY_FIELDS = ("email", "phone", "first_name", "last_name")
OWN_TYPES = ("contact", "lead")
OPEN_WORKFLOW_STATES = ("running", "waiting", "paused", "failed")
ERASED_REASON = "the person was erased"


@dataclass
class Subject:
    """The person: their records and what identifies them."""

    contact: Contact
    lead_ids: list[uuid.UUID]
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    # Their own records by type: contact, leads, and the activities and tasks on them.
    records: dict[str, list[uuid.UUID]] = field(default_factory=dict)

    @property
    def record_ids(self) -> list[uuid.UUID]:
        return [self.contact.id, *self.lead_ids]

    def owns(self, type_column: Any, id_column: Any, *, as_text: bool = False) -> ColumnElement[bool]:
        """``type_column``/``id_column`` name one of the person's own records."""
        return or_(*(
            (type_column == record_type) & id_column.in_([str(i) for i in ids] if as_text else ids)
            for record_type, ids in self.records.items() if ids
        ))

    def owns_text_id(self, record_type: str | None, record_id: str | None) -> bool:
        return record_id in {str(i) for i in self.records.get(record_type or "", [])}


@dataclass(frozen=True)
class Outcome:
    contact_id: uuid.UUID
    dry_run: bool
    already_erased: bool
    pseudonym: str | None
    counts: dict[str, int]


# -- who the person is ------------------------------------------------------------------


def _subject(session: Session, contact: Contact) -> Subject:
    emails = {suppression.normalize_address(contact.email)} if contact.email else set()
    lead_match = Lead.converted_contact_id == contact.id
    if emails:
        lead_match = lead_match | func.lower(Lead.email).in_(emails)
    leads = list(session.scalars(select(Lead).where(lead_match)))
    subject = Subject(contact, [lead.id for lead in leads], emails)
    on_them = Activity.contact_id == contact.id
    if subject.lead_ids:
        on_them = on_them | Activity.lead_id.in_(subject.lead_ids)
    subject.records = {
        "contact": [contact.id], "lead": subject.lead_ids,
        "activity": list(session.scalars(select(Activity.id).where(on_them))),
        "task": list(session.scalars(select(Task.id).where(or_(
            (Task.related_type == "contact") & (Task.related_id == contact.id),
            (Task.related_type == "lead") & Task.related_id.in_(subject.lead_ids))))),
    }
    for person in (contact, *leads):
        subject.emails.update({suppression.normalize_address(person.email)} if person.email else set())
        subject.phones.update({person.phone} if person.phone else set())
        subject.names.add(person.full_name)
    # Former addresses, numbers and names, from their field history.
    firsts, lasts = {p.first_name for p in (contact, *leads)}, {p.last_name for p in (contact, *leads)}
    history = session.scalars(select(RecordHistory.changes).where(
        RecordHistory.record_type.in_(OWN_TYPES), subject.owns(RecordHistory.record_type, RecordHistory.record_id)))
    for changes in history:
        found = {key: [v for v in _values((changes or {}).get(key)) if isinstance(v, str) and v] for key in IDENTITY_FIELDS}
        subject.emails.update(suppression.normalize_address(v) for v in found["email"])
        subject.phones.update(found["phone"])
        firsts.update(found["first_name"])
        lasts.update(found["last_name"])
    subject.names.update(" ".join(p for p in (first, last) if p) for first in firsts for last in lasts if last)
    return subject


def _values(change: Any) -> list[Any]:
    """The values of a history entry's field: ``[old, new]``, or one value."""
    return change if isinstance(change, list) else [change]


# -- the person's own rows ----------------------------------------------------------------

Step = Callable[[Session, Subject, Pseudonyms, bool], int]


def _changed(session: Session, table: Table, where: ColumnElement[bool], values: dict[str, Any], dry_run: bool) -> int:
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(table).where(where)) or 0)
    return int(session.execute(update(table).where(where).values(**values)).rowcount or 0)  # type: ignore[attr-defined]


def _removed(session: Session, table: Table, where: ColumnElement[bool], dry_run: bool) -> int:
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(table).where(where)) or 0)
    return int(session.execute(delete(table).where(where)).rowcount or 0)  # type: ignore[attr-defined]


def _new_version(model: Any) -> dict[str, Any]:
    """A changed record's next version (its ETag changes) and time of change."""
    return {"version": model.__table__.c.version + 1, "updated_at": utcnow()}


def _tombstone(pseudo: Pseudonyms) -> dict[str, Any]:
    return {"first_name": None, "last_name": pseudo.name, "email": None, "phone": None, "title": None,
            "custom": {}, "consent_state": "withdrawn"}


def _contact(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    table = Contact.__table__
    values = {**_tombstone(pseudo), "timezone": None, **_new_version(Contact)}
    return _changed(session, table, table.c.id == s.contact.id, values, dry_run)


def _leads(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    table = Lead.__table__
    values = {**_tombstone(pseudo), "attribution": {}, "disqualified_reason": None, **_new_version(Lead)}
    return _changed(session, table, table.c.id.in_(s.lead_ids), values, dry_run)


def _activities(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    return _changed(session, Activity.__table__, Activity.id.in_(s.records["activity"]),
                    {"subject": ERASED, "body": None, "custom": {}, **_new_version(Activity)}, dry_run)


def _tasks(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    return _changed(session, Task.__table__, Task.id.in_(s.records["task"]),
                    {"title": ERASED, "notes": None, "custom": {}, **_new_version(Task)}, dry_run)


def _their_messages(s: Subject) -> ColumnElement[bool]:
    mine = EmailMessage.contact_id == s.contact.id
    if s.emails:
        mine = mine | func.lower(EmailMessage.to_address).in_(s.emails) | func.lower(EmailMessage.from_address).in_(s.emails)
    return mine


def _emails(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    """Their e-mails keep status, kind and times (the sequence and mailbox statistics);
    what was written and to whom goes. A message still queued is never sent."""
    mine = _their_messages(s)
    table = EmailMessage.__table__
    if not dry_run:
        session.execute(update(table).where(mine, table.c.status == "queued").values(status="cancelled"))
    attachments = EmailAttachment.message_id.in_(select(EmailMessage.id).where(mine))
    _removed(session, EmailAttachment.__table__, attachments, dry_run)
    values = {"subject": ERASED, "body_text": None, "body_html": None, "ical": None, "references": None,
              "in_reply_to": None, "error": None}
    return _changed(session, table, mine, values, dry_run)


def _sequence_enrollments(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    live = list(session.scalars(select(SequenceEnrollment).where(
        SequenceEnrollment.contact_id == s.contact.id, SequenceEnrollment.status.in_(("active", "paused")))))
    if not dry_run:
        for enrollment in live:
            sequence_engine.exit_enrollment(session, enrollment, code="erased", reason=ERASED_REASON)
    return len(live)


def _workflow_enrollments(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    mine = s.owns(Enrollment.record_type, Enrollment.record_id) & Enrollment.status.in_(OPEN_WORKFLOW_STATES)
    if not dry_run:
        keys = select(Enrollment.action_key).where(mine, Enrollment.action_key.is_not(None))
        session.execute(update(ScheduledAction).where(ScheduledAction.key.in_(keys), ScheduledAction.status == "pending")
                        .values(status="cancelled"))
    values = {"status": "cancelled", "finished_at": utcnow(), "exit_reason": ERASED_REASON, "wait_event": None}
    return _changed(session, Enrollment.__table__, mine, values, dry_run)


def _match_keys(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    return _removed(session, MatchKey.__table__, MatchKey.record_id.in_(s.record_ids), dry_run)


def _duplicates(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    ids = s.record_ids
    mine = DuplicateCandidate.record_id.in_(ids) | DuplicateCandidate.candidate_id.in_(ids)
    return _removed(session, DuplicateCandidate.__table__, mine, dry_run)


def _engagement(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    return _removed(session, EngagementEvent.__table__, EngagementEvent.lead_id.in_(s.lead_ids), dry_run)


def _form_submissions(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    return _changed(session, FormSubmission.__table__, FormSubmission.lead_id.in_(s.lead_ids),
                    {"payload": {}, "ip": None}, dry_run)


def _meetings(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    mine = Meeting.contact_id == s.contact.id
    if s.lead_ids:
        mine = mine | Meeting.lead_id.in_(s.lead_ids)
    values = {"answers": {}, "booker_ip": None, "cancel_reason": None}
    changed = _changed(session, Meeting.__table__, mine, values, dry_run)
    if s.emails:  # their place on the invitation goes (one row per address, so no pseudonym could stand in)
        changed += _removed(session, MeetingAttendee.__table__, func.lower(MeetingAttendee.email).in_(s.emails), dry_run)
    return changed


def _quotes(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    """The PDF they were sent goes (its SHA-256 stays, the proof of what was accepted);
    so do the signature and where they answered from."""
    mine = Quote.contact_id == s.contact.id
    changed = _changed(session, Quote.__table__, mine & Quote.pdf.is_not(None), {"pdf": None}, dry_run)
    answered = QuoteResponse.quote_id.in_(select(Quote.id).where(mine))
    values = {"signer_name": pseudo.name, "signature_png": None, "ip_address": None, "user_agent": None}
    return changed + _changed(session, QuoteResponse.__table__, answered, values, dry_run)


def _suppression(session: Session, s: Subject, pseudo: Pseudonyms, dry_run: bool) -> int:
    if not dry_run:
        for address in sorted(s.emails):
            suppression.suppress_hashed(session, address, reason="erased", contact_id=s.contact.id)
    return len(s.emails)


OWN_ROWS: dict[str, Step] = {
    "contact": _contact,
    "leads": _leads,
    "activities": _activities,
    "tasks": _tasks,
    "emails": _emails,
    "sequence_enrollments": _sequence_enrollments,
    "workflow_enrollments": _workflow_enrollments,
    "match_keys": _match_keys,
    "duplicate_candidates": _duplicates,
    "engagement_events": _engagement,
    "form_submissions": _form_submissions,
    "meetings": _meetings,
    "quotes": _quotes,
    "suppression": _suppression,
}


# -- mentions anywhere ----------------------------------------------------------------------


def _owned_rows(s: Subject, table: Table) -> ColumnElement[bool] | None:
    """The rows of a scrubbed table that are about the person's own records (whose personal
    keys are erased even where they match no value we know, such as a first name alone):
    those naming one of them by ``record_type``/``record_id``, or by ``record_id`` alone
    (ids are unique across types). None: the table names no record."""
    if "record_type" in table.c and "record_id" in table.c:
        return s.owns(table.c.record_type, table.c.record_id)
    if "record_id" in table.c:
        return table.c.record_id.in_([i for ids in s.records.values() for i in ids])
    return None


def _mentions(session: Session, s: Subject, pseudo: Pseudonyms, actor: Actor, dry_run: bool) -> dict[str, int]:
    counts = {
        table: scrub_table(session, table, columns, pseudo, dry_run=dry_run, owned=lambda t: _owned_rows(s, t))
        for table, columns in sorted(scrubbed_columns().items())
    }

    def about_them(table: Table) -> ColumnElement[bool]:
        return or_(s.owns(table.c.target_type, table.c.target_id, as_text=True),
                   *(pseudo.where(table.c[name]) for name in audit.ERASABLE_COLUMNS))

    def rewrite(row: Any) -> dict[str, Any]:
        own = s.owns_text_id(row.target_type, row.target_id)
        return {name: pseudo.rewrite(row._mapping[name], owned=own) for name in audit.ERASABLE_COLUMNS}

    counts["audit_entry"] = audit.erase_mentions(session, where=about_them, rewrite=rewrite, actor=actor, dry_run=dry_run)
    return {table: n for table, n in counts.items() if n}


# -- the whole --------------------------------------------------------------------------------


def erase(session: Session, contact_id: uuid.UUID, *, actor: Actor, dry_run: bool = False) -> Outcome:
    """Erase the contact ``contact_id`` and everything about them (see the module's
    docstring). Admins only. Only flushes: the caller's boundary commits it whole."""
    if not actor.is_admin:
        raise PermissionDenied("only an admin may erase a person")
    # Locked first: a second erasure of the same contact waits, then finds the receipt.
    contact = session.get(Contact, contact_id, with_for_update=True)
    done = session.scalar(select(Erasure).where(Erasure.contact_id == contact_id))
    if done is not None:
        return Outcome(contact_id, dry_run, True, f"Erased person {done.token}", dict(done.counts))
    if contact is None:
        raise NotFound("no such contact")
    session.flush()  # rows written earlier in this transaction are scrubbed too
    subject = _subject(session, contact)
    token = secrets.token_hex(4)
    pseudo = Pseudonyms.build(token=token, emails=subject.emails, phones=subject.phones, names=subject.names)
    files = eml_files(session, _their_messages(subject), pseudo)
    exports = export_files(session, subject.record_ids)
    with _zeroing_freed_space(session, enabled=not dry_run):
        counts = {place: step(session, subject, pseudo, dry_run) for place, step in OWN_ROWS.items()}
        counts = {place: n for place, n in counts.items() if n}
        counts.update(_mentions(session, subject, pseudo, actor, dry_run))
        counts["eml_files"] = len(files)
        if exports:
            counts["export_files"] = len(exports)
        if not dry_run:
            _record(session, subject, pseudo, token, counts, actor)
            session.flush()
    session.expire_all()  # the rows changed behind the ORM's back
    if not dry_run:
        unit_of_work(session).after_commit(lambda: _after_commit([*files, *exports]))
    return Outcome(contact_id, dry_run, False, pseudo.name, counts)


def _record(session: Session, s: Subject, pseudo: Pseudonyms, token: str, counts: dict[str, int], actor: Actor) -> None:
    """The receipt, a line in the contact's history and an event (no values: what was
    erased, not what it was), and an audit entry naming only the contact's id."""
    session.add(Erasure(contact_id=s.contact.id, token=token, actor_id=actor.id, counts=counts))
    fields = ("first_name", "last_name", "email", "phone", "title", "timezone", "custom")
    record_change(session, record_type="contact", record_id=s.contact.id, action="erased",
                  changes={**{name: [ERASED, None] for name in fields}, "last_name": [ERASED, pseudo.name]}, actor=actor)
    audit.log(session, "contact.erased", actor=actor, summary=f"a contact and {len(s.lead_ids)} lead(s) erased",
              target_type="contact", target_id=s.contact.id, details={"counts": counts, "pseudonym": token})


class _zeroing_freed_space:
    """On SQLite, overwrite what the erasure removes instead of leaving it in free pages
    of the database file (``secure_delete``), for the statements of this erasure."""

    def __init__(self, session: Session, *, enabled: bool) -> None:
        self.session = session
        self.enabled = enabled and session.get_bind().dialect.name == "sqlite"

    def __enter__(self) -> None:
        if self.enabled:
            self.session.execute(text("PRAGMA secure_delete=ON"))

    def __exit__(self, failure: type[BaseException] | None, *exc: object) -> None:
        # After a failure the transaction only rolls back; the flag then stays on for
        # that connection, which costs a little speed and nothing else.
        if self.enabled and failure is None:
            self.session.execute(text("PRAGMA secure_delete=OFF"))


def _after_commit(files: list[Path]) -> None:
    """The files go once the rows are committed (a rolled-back erasure keeps them). On
    SQLite the database file is rebuilt (VACUUM) and its write-ahead log emptied: pages
    freed before the erasure, and the log's copies of old pages, still hold the text."""
    for path in files:
        path.unlink(missing_ok=True)
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        return
    try:
        connection = engine.raw_connection()  # outside any transaction, which VACUUM needs
        try:
            for statement in ("PRAGMA busy_timeout=2000", "VACUUM"):
                connection.cursor().execute(statement)
            if not wal.empty_the_log(connection.driver_connection):
                log.warning("after an erasure the SQLite write-ahead log stayed busy; it empties at the next checkpoint")
            connection.cursor().execute("PRAGMA busy_timeout=15000")
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:  # busy: the erasure stands; the next VACUUM clears the free pages
        log.warning("after an erasure the SQLite file could not be compacted (%s); run VACUUM to clear its free pages", exc)
