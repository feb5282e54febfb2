"""The two halves of a CSV import batch: cleaning it (CPU only, no database) and writing it
(exact-e-mail de-duplication, then the leads, their history and one event, in one
transaction).

Cleaning runs one batch ahead of the writer: in a forked process for a large file (the
writer keeps a core to itself), else in a thread (SQLite and psycopg let go of the
interpreter while the database works, so the next batch is cleaned meanwhile). Only a
couple of batches are ever held.

Each written batch records one ``lead.imported`` event carrying its lead ids and lines;
the worker expands it into the usual ``lead.created`` event per lead (``leads/handlers.py``),
so workflows that start on a created lead start on imported ones too, without the import
writing 100,000 outbox rows itself."""

import json
import multiprocessing
import operator
import os
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.crm.models import Account
from pipewise.db.base import utcnow
from pipewise.events import bus
from pipewise.leads import bulk
from pipewise.records.csvstream import BadRecord, Record
from pipewise.leads.events import LeadsImported
from pipewise.leads.models import Lead, LeadImportRow
from pipewise.records.history import record_change
from pipewise.records.models import RecordHistory
from pipewise.records.service import apply_changes

Cleaner = Callable[[Record], tuple[dict[str, Any] | None, str | None]]

LEAD_DEFAULTS: dict[str, Any] = {
    "first_name": None, "email": None, "phone": None, "title": None, "company": None, "domain": None,
    "industry": None, "company_size": None, "country": None, "region": None, "source": None, "status": "new",
    "lifecycle_stage": "lead", "disqualified_reason": None, "owner_id": None, "account_id": None,
    "attribution": {}, "consent_state": "unknown", "score": 0, "fit_score": 0, "engagement_score": 0,
    "score_reasons": [], "custom": {},
}
COUNTS = ("created_count", "updated_count", "skipped_count", "rejected_count")


@dataclass
class CleanBatch:
    """One batch after cleaning: the rows that can land and the report of those that cannot."""

    size: int
    bytes_read: int
    good: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # (line, raw, values)
    report: list[tuple[int, str, str, str]] = field(default_factory=list)  # (line, outcome, reason, excerpt)


def clean_batch(items: list[Record | BadRecord], cleaner: Cleaner, bytes_read: int) -> CleanBatch:
    batch = CleanBatch(len(items), bytes_read)
    for item in items:
        if isinstance(item, BadRecord):
            batch.report.append((item.line, "rejected", item.reason, item.excerpt[:300]))
            continue
        data, reason = cleaner(item)
        if data is None:
            batch.report.append((item.line, "rejected", reason or "is invalid", item.raw[:300]))
        else:
            batch.good.append((item.line, item.raw, data))
    return batch


def _clean_in_batches(
    records: Iterable[Record | BadRecord], cleaner: Cleaner, size: int, bytes_read: Callable[[], int]
) -> Iterator[CleanBatch]:
    items: list[Record | BadRecord] = []
    for item in records:
        items.append(item)
        if len(items) >= size:
            yield clean_batch(items, cleaner, bytes_read())
            items = []
    if items:
        yield clean_batch(items, cleaner, bytes_read())


def cleaned_batches(
    records: Iterable[Record | BadRecord], cleaner: Cleaner, *, size: int, bytes_read: Callable[[], int]
) -> Iterator[CleanBatch]:
    """Read and clean batches of ``size`` records in a background thread, one ahead of
    the consumer. An error there is raised here; stopping early stops the thread."""
    handoff: queue.Queue[CleanBatch | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: CleanBatch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in _clean_in_batches(records, cleaner, size, bytes_read):
                if not put(batch):
                    return
            put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    thread = threading.Thread(target=produce, name="lead-import-cleaner", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def forked_batches(
    records: Iterable[Record | BadRecord], cleaner: Cleaner, *, size: int, bytes_read: Callable[[], int]
) -> Iterator[CleanBatch]:
    """Like ``cleaned_batches``, but reading and cleaning run in a forked process, on the
    other core: the writer keeps one core to itself. The pipe between them holds little,
    so the child stays about a batch ahead and memory stays flat."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)

    def produce() -> None:
        receiving.close()
        # No database work here, and the parent's pooled connections are left as they are,
        # not disposed: after ``dispose(close=False)`` the garbage collector closed them in
        # this child, and SQLite's rule is that a connection never crosses a fork (a close
        # here can checkpoint and delete the log the parent still writes). The child ends
        # in ``os._exit``, which closes nothing.
        try:
            for batch in _clean_in_batches(records, cleaner, size, bytes_read):
                sending.send(batch)
            sending.send(None)
        except Exception:  # noqa: BLE001 - the reason travels to the writer, which raises it
            sending.send(traceback.format_exc(limit=8))

    child = context.Process(target=produce, name="lead-import-cleaner", daemon=True)
    child.start()
    sending.close()
    try:
        while True:
            try:
                item = receiving.recv()
            except EOFError:
                raise RuntimeError("the process cleaning the file stopped without a word") from None
            if item is None:
                break
            if isinstance(item, str):
                raise RuntimeError(f"cleaning the file failed:\n{item}")
            yield item
    finally:
        receiving.close()
        if child.is_alive():
            child.terminate()
        child.join()


def worth_a_process(stream: BinaryIO, *, min_bytes: int = 8_000_000) -> bool:
    """A second process pays for itself on a large file, where fork exists and two cores do."""
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    if multiprocessing.current_process().daemon:  # a daemon process may not have children
        return False
    try:
        if not stream.seekable():
            return False
        here = stream.tell()
        size = stream.seek(0, os.SEEK_END) - here
        stream.seek(here)
    except (OSError, ValueError):
        return False
    return size >= min_bytes


def new_lead_ids(count: int) -> list[str]:
    """``count`` time-ordered UUIDv7 ids (as ``db.base.uuid7`` makes them) in their
    32-hex-digit form, which both databases take for a UUID column."""
    stamp = f"{(time.time_ns() // 1_000_000) & 0xFFFF_FFFF_FFFF:012x}7"
    noise = os.urandom(10 * count).hex()
    ids = []
    for start in range(0, 20 * count, 20):
        bits = noise[start : start + 20]
        ids.append(f"{stamp}{bits[:3]}{'89ab'[int(bits[3], 16) & 3]}{bits[4:19]}")
    return ids


class BatchWriter:
    """Writes cleaned batches of one import: every call is one batch in the caller's
    transaction, so a batch lands whole or not at all."""

    def __init__(self, import_id: uuid.UUID, on_duplicate: str, actor: Actor) -> None:
        self.import_id = import_id
        self.on_duplicate = on_duplicate
        self.actor = actor
        self.actor_id = actor.id if actor.id.int else None
        self.counts = dict.fromkeys(COUNTS, 0)

    def take_counts(self) -> dict[str, int]:
        counts, self.counts = self.counts, dict.fromkeys(COUNTS, 0)
        return counts

    def write(self, session: Session, batch: CleanBatch) -> list[str]:
        """The batch's new leads (ids in hex) after de-duplication by exact e-mail."""
        report = list(batch.report)
        good = batch.good
        existing: dict[str, uuid.UUID] = {}
        for email, lead_id in bulk.select_in(session, Lead.__table__, "email", {d["email"] for _, _, d in good if d.get("email")},
                                             ("id",), order_by="created_at"):
            existing.setdefault(email, lead_id)
        accounts = dict(bulk.select_in(session, Account.__table__, "domain", {d["domain"] for _, _, d in good if d.get("domain")}, ("id",)))
        to_insert: list[tuple[int, dict[str, Any]]] = []
        to_update: dict[uuid.UUID, dict[str, Any]] = {}
        first_line: dict[str, int] = {}
        inserted_by_email: dict[str, dict[str, Any]] = {}
        for line, raw, data in good:
            email = data.get("email")
            duplicate_of = existing.get(email) if email else None
            if email and duplicate_of is None and email in first_line and self.on_duplicate != "create":
                if self.on_duplicate == "skip":
                    report.append((line, "skipped", f"same e-mail as line {first_line[email]}", raw[:300]))
                    continue
                # update: later rows of the same file refine the one about to be created
                inserted_by_email[email].update({k: v for k, v in data.items() if v is not None})
                self.counts["updated_count"] += 1
                continue
            if duplicate_of is not None and self.on_duplicate == "skip":
                report.append((line, "skipped", f"a lead with the e-mail {email} exists", raw[:300]))
                continue
            if duplicate_of is not None and self.on_duplicate == "update":
                to_update.setdefault(duplicate_of, {}).update(data)
                continue
            if data.get("domain") in accounts:
                data["account_id"] = accounts[data["domain"]]
            if email and email not in first_line:
                first_line[email] = line
                inserted_by_email[email] = data
            to_insert.append((line, data))
        created = self._insert(session, to_insert)
        self._update(session, to_update)
        bulk.insert_rows(session, LeadImportRow.__table__, ("line", "outcome", "reason", "excerpt"), report,
                         shared={"import_id": self.import_id})
        self.counts["rejected_count"] += sum(1 for r in report if r[1] == "rejected")
        self.counts["skipped_count"] += sum(1 for r in report if r[1] == "skipped")
        return created

    def _insert(self, session: Session, rows: list[tuple[int, dict[str, Any]]]) -> list[str]:
        """The leads, a ``created`` history row each naming the import and the line, and
        one ``lead.imported`` event for the batch."""
        if not rows:
            return []
        now = utcnow()
        ids = new_lead_ids(len(rows))
        fields = sorted({key for _, data in rows for key in data})
        blank = {key: LEAD_DEFAULTS.get(key) for key in fields}
        values_of = operator.itemgetter(*fields)
        bulk.insert_rows(
            session, Lead.__table__, ["id", *fields],
            [(lead_id, *values_of({**blank, **data})) for lead_id, (_, data) in zip(ids, rows, strict=True)],
            shared={**{k: v for k, v in LEAD_DEFAULTS.items() if k not in fields}, "created_at": now, "updated_at": now},
            ready=("id",),
        )
        source = json.dumps(str(self.import_id))
        bulk.insert_rows(
            session, RecordHistory.__table__, ("record_id", "changes"),
            [(lead_id, f'{{"import": [null, {source}], "line": [null, {line}]}}') for lead_id, (line, _) in zip(ids, rows, strict=True)],
            shared={"record_type": "lead", "action": "created", "actor_id": self.actor_id, "at": now},
            ready=("record_id", "changes"),
        )
        bus.record(session, LeadsImported(record_id=self.import_id, actor_id=self.actor_id,
                                          lead_ids=ids, lines=[line for line, _ in rows]))
        self.counts["created_count"] += len(rows)
        return ids

    def _update(self, session: Session, updates: dict[uuid.UUID, dict[str, Any]]) -> None:
        if not updates:
            return
        for lead in session.scalars(select(Lead).where(Lead.id.in_(list(updates)))):
            changes = apply_changes(lead, {k: v for k, v in updates[lead.id].items() if v is not None})
            if changes:
                record_change(session, record_type="lead", record_id=lead.id, action="updated",
                              changes={**changes, "import": [None, str(self.import_id)]}, actor=self.actor)
            self.counts["updated_count"] += 1
