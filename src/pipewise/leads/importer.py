"""CSV import of leads: column mapping (HubSpot and Salesforce exports map themselves),
a preview, streaming in batches, a choice of skip / update / create on duplicates, and a
row report in which every rejected row has its line number and reason.

Rows are cleaned in Python (a batch ahead, in a thread or for a large file a second process)
and written with Core multi-row inserts — leads and their history rows, with one event per
batch — so a file of 100,000 rows imports in seconds and in bounded memory
(``import_batches``). Fuzzy duplicate detection and scoring run once at the end."""

import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow, uuid7
from pipewise.errors import NotFound, ValidationFailed
from pipewise.events.base import jsonable
from pipewise.leads import clean
from pipewise.records.csvstream import BadRecord, CountingReader, Record, read_records
from pipewise.leads.import_batches import BatchWriter, cleaned_batches, forked_batches, worth_a_process
from pipewise.leads.models import LeadImport, LeadImportRow
from pipewise.records import import_columns, import_runs
from pipewise.records.service import assignable_users

ON_DUPLICATE = ("skip", "update", "create")
BATCH = 5000
TARGETS = (
    "first_name", "last_name", "full_name", "email", "phone", "title", "company", "domain", "industry",
    "company_size", "country", "region", "source", "status", "owner_email",
)
_ALIASES = {
    # Pipewise's own names, HubSpot's export headers, Salesforce's labels and API names.
    "first_name": ["first name", "firstname", "given name", "first"],
    "last_name": ["last name", "lastname", "surname", "family name", "last"],
    "full_name": ["name", "full name", "contact name", "lead name"],
    "email": ["email", "e-mail", "email address", "e-mail address", "work email"],
    "phone": ["phone", "phone number", "mobile phone", "mobile phone number", "mobile", "telephone", "business phone"],
    "title": ["title", "job title", "position", "role"],
    "company": ["company", "company name", "organization", "organisation", "account name", "associated company"],
    "domain": ["domain", "company domain name", "website", "website url"],
    "industry": ["industry"],
    "company_size": ["company size", "number of employees", "no. of employees", "numberofemployees", "employees"],
    "country": ["country", "country/region", "country region"],
    "region": ["state", "state/region", "state/province", "region", "province", "state region"],
    "source": ["source", "lead source", "leadsource", "original source", "original source type"],
    "status": ["status", "lead status", "leadstatus"],
    "owner_email": ["owner", "owner email", "lead owner", "contact owner", "hubspot owner email", "owneremail"],
}
_HEADER_TO_TARGET = import_columns.alias_table(_ALIASES)
_STATUS = {
    "new": "new", "open": "new", "open - not contacted": "new", "attempted_to_contact": "working",
    "attempted to contact": "working", "in_progress": "working", "in progress": "working", "connected": "working",
    "working": "working", "working - contacted": "working", "contacted": "working", "nurturing": "nurturing",
    "bad_timing": "nurturing", "bad timing": "nurturing", "qualified": "qualified", "open_deal": "qualified",
    "open deal": "qualified", "closed - converted": "qualified", "unqualified": "disqualified",
    "disqualified": "disqualified", "closed - not converted": "disqualified",
}


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    """CSV column → lead field, for the columns whose names we recognise."""
    return import_columns.suggest_mapping(headers, _HEADER_TO_TARGET)


def check_mapping(headers: list[str], mapping: dict[str, str]) -> None:
    errors = import_columns.check_mapping(headers, mapping, TARGETS, noun="lead")
    if not set(mapping.values()) & {"last_name", "full_name", "email"}:
        errors.add("mapping", "map a column to last_name, full_name or email: a lead needs a name or an address")
    errors.raise_if_any()


@dataclass
class RowCleaner:
    """Turns one CSV record into lead values, or says why it cannot."""

    headers: list[str]
    mapping: dict[str, str]
    default_country: str | None = None
    owners: dict[str, uuid.UUID] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = [(self.headers.index(col), target) for col, target in self.mapping.items()]

    def clean(self, record: Record) -> tuple[dict[str, Any] | None, str | None]:
        if len(record.values) != len(self.headers):
            return None, f"has {len(record.values)} fields where the header has {len(self.headers)} (a missing or extra column)"
        data: dict[str, Any] = {}
        custom: dict[str, str] = {}
        for index, target in self.columns:
            value = record.values[index].strip()
            if not value:
                continue
            if target.startswith("custom."):
                custom[target[7:]] = value
            else:
                data[target] = value
        problems: list[str] = []
        if "full_name" in data:
            first, _, last = data.pop("full_name").rpartition(" ")
            data.setdefault("first_name", first or None)
            data.setdefault("last_name", last)
        if not data.get("last_name"):
            if data.get("email"):
                data["last_name"] = data["email"].partition("@")[0]
            else:
                return None, "has neither a last name nor an e-mail address (a required column is empty)"
        for key in ("first_name", "last_name"):
            if key in data:
                data[key] = clean.tidy_person_name(data[key])
        for key in ("title", "company", "industry", "source"):
            if key in data:
                data[key] = clean.tidy_text(data[key])
        self._apply(data, "email", clean.clean_email, problems)
        self._apply(data, "country", clean.clean_country, problems)
        country = data.get("country") or self.default_country
        self._apply(data, "phone", clean.clean_phone, problems, country)
        self._apply(data, "region", clean.clean_region, problems, country)
        self._apply(data, "domain", clean.normalize.normalize_domain, problems)
        if "company_size" in data:
            digits = data["company_size"].replace(",", "").replace(" ", "")
            if digits.isdigit():
                data["company_size"] = int(digits)
            else:
                problems.append(f"company_size {data['company_size']!r} is not a whole number")
        if "status" in data:
            status = _STATUS.get(data["status"].strip().lower())
            if status is None:
                problems.append(f"status {data['status']!r} is not one we know ({', '.join(sorted(set(_STATUS.values())))})")
            else:
                data["status"] = status
                if status == "disqualified":
                    data["lifecycle_stage"] = "disqualified"
                    data["disqualified_reason"] = "imported as disqualified"
        if "owner_email" in data:
            owner = self.owners.get(data.pop("owner_email").strip().lower())
            if owner is None:
                problems.append("the owner is not a Pipewise user you may assign leads to")
            else:
                data["owner_id"] = owner
        if problems:
            return None, "; ".join(problems)
        if data.get("email") and not data.get("domain"):
            data["domain"] = clean.company_domain(data["email"])
        if custom:
            data["custom"] = custom
        return data, None

    @staticmethod
    def _apply(data: dict[str, Any], key: str, fn: Callable[..., str], problems: list[str], *more: str | None) -> None:
        if key in data:
            try:
                data[key] = fn(data[key], *more)
            except ValueError as exc:
                problems.append(f"{key} {data[key]!r}: {exc}")


# -- preview --


@dataclass
class Preview:
    headers: list[str]
    mapping: dict[str, str]
    rows: list[dict[str, Any]]


def preview(stream: BinaryIO, *, mapping: dict[str, str] | None = None, delimiter: str = ",", limit: int = 10,
            default_country: str | None = None) -> Preview:
    """The file's columns, a suggested mapping and the first rows as they would land."""
    records = read_records(stream, delimiter=delimiter)
    headers = _headers(records)
    mapping = mapping if mapping is not None else suggest_mapping(headers)
    rows = []
    cleaner = RowCleaner(headers, {c: t for c, t in mapping.items() if c in headers}, default_country)
    for item in records:
        if len(rows) >= limit:
            break
        if isinstance(item, BadRecord):
            rows.append({"line": item.line, "values": None, "error": item.reason})
            continue
        data, reason = cleaner.clean(item) if cleaner.columns else (None, "no columns are mapped")
        rows.append({"line": item.line, "values": jsonable(data) if data else None, "error": reason, "raw": item.values})
    return Preview(headers, mapping, rows)


_headers = import_columns.read_headers


# -- the import --

Progress = Callable[[int, int], None]  # (rows read so far, bytes read so far)


@dataclass
class ImportOptions:
    mapping: dict[str, str] | None = None
    on_duplicate: str = "skip"
    delimiter: str = ","
    default_country: str | None = None
    score: bool = True
    find_duplicates: bool = True


def start(session: Session, *, filename: str, options: ImportOptions, actor: Actor) -> LeadImport:
    if options.on_duplicate not in ON_DUPLICATE:
        raise ValidationFailed.on("on_duplicate", f"must be one of {', '.join(ON_DUPLICATE)}")
    if options.delimiter not in (",", ";", "\t", "|"):
        raise ValidationFailed.on("delimiter", "must be one of , ; | or a tab")
    job = LeadImport(id=uuid7(), filename=filename[:255], on_duplicate=options.on_duplicate, mapping=options.mapping or {},
                     actor_id=actor.id if actor.id.int else None, status="pending")
    session.add(job)
    session.flush()
    return job


def run(
    open_session: Callable[[], AbstractContextManager[Session]],
    import_id: uuid.UUID,
    stream: BinaryIO,
    *,
    options: ImportOptions,
    actor: Actor,
    progress: Progress | None = None,
    finishing: Callable[[int], None] | None = None,
) -> LeadImport:
    """Import the stream into the started import ``import_id``, one transaction per batch
    (cleaned one batch ahead of the writer, see ``import_batches``). ``progress`` hears of
    every batch written; ``finishing`` (given the rows read) of the last phase, scoring and
    the duplicate check."""
    batches = forked_batches if worth_a_process(stream) else cleaned_batches
    counter = CountingReader(stream)
    records = read_records(io.BufferedReader(counter, buffer_size=256 * 1024), delimiter=options.delimiter)
    failure: ValidationFailed | None = None
    with open_session() as session:
        job = _job(session, import_id)
        job.status, job.started_at = "running", utcnow()
        try:
            headers = _headers(records)
            mapping = options.mapping or suggest_mapping(headers)
            check_mapping(headers, mapping)
            job.mapping = mapping
        except ValidationFailed as exc:
            # Nothing was written; the import is marked failed with the reason, then raised.
            job.status, job.error, job.finished_at = "failed", exc.detail, utcnow()
            failure = exc
        assignable = assignable_users(actor)
        owner_query = select(User.id, User.email) if assignable is None else select(User.id, User.email).where(assignable)
        owners = {email.lower(): uid for uid, email in session.execute(owner_query)}
    if failure is not None:
        raise failure
    cleaner = RowCleaner(headers, mapping, options.default_country, owners)
    writer = BatchWriter(import_id, options.on_duplicate, actor)
    created_ids: list[str] = []
    rows_done = 0
    for batch in batches(records, cleaner.clean, size=BATCH, bytes_read=lambda: counter.count):
        with open_session() as session:
            created_ids.extend(writer.write(session, batch))
            job = _job(session, import_id)
            job.total_rows += batch.size
            for key, value in writer.take_counts().items():
                setattr(job, key, getattr(job, key) + value)
        rows_done += batch.size
        if progress:
            progress(rows_done, batch.bytes_read)
    if finishing:
        finishing(rows_done)
    with open_session() as session:
        _after(session, created_ids, options, actor)
        job = _job(session, import_id)
        job.status, job.finished_at = "done", utcnow()
        return job


def _job(session: Session, import_id: uuid.UUID) -> LeadImport:
    job = session.get(LeadImport, import_id)
    if job is None:
        raise NotFound(f"no import with id {import_id}")
    return job


def _after(session: Session, created: list[str], options: ImportOptions, actor: Actor) -> None:
    """Scores and fuzzy duplicate candidates for the new leads (ids in hex), once, at the end."""
    from pipewise.leads import dedup
    from pipewise.leads.scores import score_leads

    if options.score:
        for start_at in range(0, len(created), 1000):
            ids = [uuid.UUID(hex_id) for hex_id in created[start_at : start_at + 1000]]
            score_leads(session, ids, cause="imported", actor=actor)
    if options.find_duplicates and created:
        dedup.scan(session)


def rows_of(session: Session, import_id: uuid.UUID, *, outcome: str | None = None, limit: int = 1000, after_line: int = 0) -> list[LeadImportRow]:
    stmt = select(LeadImportRow).where(LeadImportRow.import_id == import_id, LeadImportRow.line > after_line)
    if outcome:
        stmt = stmt.where(LeadImportRow.outcome == outcome)
    return list(session.scalars(stmt.order_by(LeadImportRow.line).limit(limit)))


def report_csv(session: Session, import_id: uuid.UUID) -> Iterator[str]:
    """The row report as CSV text, a chunk at a time (the session must stay open while it is read)."""
    return import_columns.csv_chunks(
        ["line", "outcome", "reason", "excerpt"],
        lambda after: rows_of(session, import_id, after_line=after, limit=2000),
        lambda row: [row.line, row.outcome, row.reason, row.excerpt or ""],
        lambda row: row.line,
    )


def visible_imports(stmt: Any, actor: Actor) -> Any:
    """``stmt`` limited to the imports ``actor`` may see: their own and their teams' (as
    records are; admins all). An import nobody started (actor unknown) is for admins only."""
    return import_runs.visible_runs(stmt, LeadImport, actor)


def visible_import(session: Session, import_id: uuid.UUID, actor: Actor) -> LeadImport:
    return import_runs.visible_run(session, LeadImport, import_id, actor)
