"""Running a record import (``imports``) and reading what it did: the import row, its
row report (one line per row of the file, with the problem of each field) and the report
as CSV."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.auth.visibility import Actor, owner_clause
from pipewise.config import get_settings
from pipewise.db.base import utcnow, uuid7
from pipewise.db.session import begin_write, get_sessionmaker, session_scope
from pipewise.errors import NotFound, ValidationFailed
from pipewise.records.csvstream import read_records
from pipewise.records.import_columns import csv_chunks, read_headers
from pipewise.records.import_models import RecordImport, RecordImportRow
from pipewise.records.imports import (
    ROW, ImportOptions, ImportProfile, RowResult, RowWriter, guess_mapping, profile_for, validate_mapping,
)

BATCH = 200
COUNTS = ("created_count", "updated_count", "skipped_count", "rejected_count")
COUNTED = {"created": "created_count", "would_create": "created_count", "updated": "updated_count",
           "would_update": "updated_count", "skipped": "skipped_count", "rejected": "rejected_count"}
# What a row that was written would have become, once the one transaction is rolled back.
UNWRITTEN = {"dry_run": {"created": "would_create", "updated": "would_update"},
             "rolled_back": {"created": "not_written", "updated": "not_written"}}
Progress = Callable[[int], None]  # rows read so far
M = TypeVar("M")


def start(session: Session, *, profile: ImportProfile, filename: str, options: ImportOptions, actor: Actor) -> RecordImport:
    options.check()
    profile.service.check_may_create(actor)
    job = RecordImport(id=uuid7(), record_type=profile.record_type, filename=filename[:255], mode=options.mode,
                       dry_run=options.dry_run, on_duplicate=options.on_duplicate, mapping=options.mapping or {},
                       actor_id=actor.id if actor.id.int else None, status="pending")
    session.add(job)
    session.flush()
    return job


def run(import_id: uuid.UUID, stream: BinaryIO, *, profile: ImportProfile, options: ImportOptions, actor: Actor,
        progress: Progress | None = None) -> None:
    """Import ``stream`` into the started import ``import_id``. A file that cannot be read
    at all (no header, a mapping that does not fit) fails the import with the reason."""
    records = read_records(stream, delimiter=options.delimiter)
    with session_scope() as session:
        job = _job(session, import_id)
        job.status, job.started_at = "running", utcnow()
        try:
            headers = read_headers(records)
            mapping = options.mapping or guess_mapping(session, profile, headers)
            validate_mapping(profile, headers, mapping)
        except ValidationFailed as exc:
            job.status, job.error, job.finished_at = "failed", exc.detail, utcnow()
            return
        job.mapping = mapping
    writer = RowWriter(profile, headers, mapping, options, actor)
    report = progress or (lambda rows: None)
    try:
        if options.mode == "per_row" and not options.dry_run:
            _per_row(import_id, writer, records, report)
            status = "done"
        else:
            # SQLite has one writer: progress, its own transaction, waits until the import's ends.
            status, results = _one_transaction(writer, records, None if get_settings().is_sqlite else report,
                                               options.dry_run)
            with session_scope() as session:
                _store(session, import_id, results)
    except Exception as exc:
        with session_scope() as session:  # the batches written so far stay, and the report says so
            job = _job(session, import_id)
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"the import stopped on an unexpected error ({type(exc).__name__}) after {job.total_rows} rows"
        raise
    _finish(import_id, status, actor, profile)


def _per_row(import_id: uuid.UUID, writer: RowWriter, records: Iterator[Any], progress: Progress) -> None:
    done = 0
    while batch := list(islice(records, BATCH)):
        with session_scope() as session:
            _store(session, import_id, list(writer.write_all(session, batch)))
        done += len(batch)
        progress(done)


def _one_transaction(writer: RowWriter, records: Iterator[Any], progress: Progress | None,
                     dry_run: bool) -> tuple[str, list[RowResult]]:
    """Every row in one transaction, kept only if none was rejected (and it is no dry run)."""
    results: list[RowResult] = []
    with _transaction() as session:
        while batch := list(islice(records, BATCH)):
            results.extend(writer.write_all(session, batch))
            if progress:
                progress(len(results))
        rejected = any(r.outcome == "rejected" for r in results)
        status = "dry_run" if dry_run else "rolled_back" if rejected else "done"
        if status == "done":
            session.commit()
    for result in results:
        result.outcome = UNWRITTEN.get(status, {}).get(result.outcome, result.outcome)
        if result.outcome == "not_written":
            result.record_id = None
    return status, results


@contextmanager
def _transaction() -> Iterator[Session]:
    """A writing session that is rolled back unless the caller commits it."""
    session = get_sessionmaker()()
    try:
        begin_write(session)
        yield session
    finally:
        session.rollback()
        session.close()


def _store(session: Session, import_id: uuid.UUID, results: list[RowResult]) -> None:
    session.add_all(
        RecordImportRow(import_id=import_id, line=r.line, outcome=r.outcome, record_id=r.record_id, errors=r.errors,
                        excerpt=r.excerpt)
        for r in results
    )
    counts = dict.fromkeys(COUNTS, 0)
    for result in results:
        if result.outcome in COUNTED:
            counts[COUNTED[result.outcome]] += 1
    values = {column: getattr(RecordImport, column) + n for column, n in counts.items()}
    session.execute(update(RecordImport).where(RecordImport.id == import_id)
                    .values(total_rows=RecordImport.total_rows + len(results), **values))


def _finish(import_id: uuid.UUID, status: str, actor: Actor, profile: ImportProfile) -> None:
    with session_scope() as session:
        job = _job(session, import_id)
        job.status, job.finished_at = status, utcnow()
        counts = {key: getattr(job, key) for key in ("total_rows", *COUNTS)}
        verb = {"dry_run": "Tried (dry run)", "rolled_back": "Rolled back"}.get(status, "Imported")
        audit.log(session, "import", actor=actor, target_type="record_import", target_id=import_id,
                  summary=f"{verb} {job.filename}: {job.created_count} {profile.spec.plural} created, "
                          f"{job.updated_count} updated, {job.rejected_count} rejected",
                  details={"record_type": profile.record_type, "mode": job.mode, "status": status, **counts})


def _job(session: Session, import_id: uuid.UUID) -> RecordImport:
    job = session.get(RecordImport, import_id)
    if job is None:
        raise NotFound(f"no import with id {import_id}")
    return job


# -- reading --


def visible_runs(stmt: Any, model: Any, actor: Actor) -> Any:
    """``stmt`` limited to the imports (of ``model``, an ``ImportRun``) ``actor`` may see: their
    own and their teams' (admins all). An import nobody started is for admins only."""
    clause = owner_clause(model.actor_id, actor, write=False)
    return stmt if clause is None else stmt.where(model.actor_id.is_not(None), clause)


def visible_run(session: Session, model: type[M], import_id: uuid.UUID, actor: Actor) -> M:
    found = session.scalar(visible_runs(select(model).where(model.id == import_id), model, actor))  # type: ignore[attr-defined]
    if found is None:
        raise NotFound(f"no import with id {import_id}")
    return found


def visible_import(session: Session, import_id: uuid.UUID, actor: Actor) -> RecordImport:
    return visible_run(session, RecordImport, import_id, actor)


def recent_imports(session: Session, actor: Actor, *, record_type: str | None = None, limit: int = 20) -> list[RecordImport]:
    stmt = visible_runs(select(RecordImport), RecordImport, actor)
    if record_type:
        stmt = stmt.where(RecordImport.record_type == record_type)
    return list(session.scalars(stmt.order_by(RecordImport.created_at.desc()).limit(limit)))


def rows_of(session: Session, import_id: uuid.UUID, *, outcome: str | None = None, after_line: int = 0,
            limit: int = 1000) -> list[RecordImportRow]:
    stmt = select(RecordImportRow).where(RecordImportRow.import_id == import_id, RecordImportRow.line > after_line)
    if outcome:
        stmt = stmt.where(RecordImportRow.outcome == outcome)
    return list(session.scalars(stmt.order_by(RecordImportRow.line).limit(limit)))


def report_csv(session: Session, job: RecordImport) -> Iterator[str]:
    """One line per row of the file: its line number, outcome, record id, the problem of
    the row and of each mapped field (empty where there is none), and the row as it was
    written where it did not land."""
    # In the profile's order: PostgreSQL's JSONB does not keep the mapping's own.
    order = {name: n for n, name in enumerate(profile_for(job.record_type).fields())}
    fields = sorted(set(job.mapping.values()), key=lambda name: (order.get(name, len(order)), name))
    return csv_chunks(
        ["line", "outcome", "record_id", "problem", *fields, "row"],
        lambda after: rows_of(session, job.id, after_line=after, limit=2000),
        lambda row: [row.line, row.outcome, row.record_id or "", row.errors.get(ROW, ""),
                     *(row.errors.get(name, "") for name in fields), row.excerpt or ""],
        lambda row: row.line,
    )
