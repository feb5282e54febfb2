"""Merging duplicate leads, contacts or accounts into one survivor.

Nothing is lost: every row elsewhere that points at a merged record — activities, tasks,
history, deal links, enrollments, engagement, form submissions, assignments, and whatever
tables later packages add — is re-pointed at the survivor, found through the foreign keys
in the schema and the ``<x>_type`` / ``<x>_id`` pairs that point at any record type. The
chosen field values land on the survivor, and the merge is written to the audit trail."""

import uuid
from typing import Any

from sqlalchemy import Column, Table, UniqueConstraint, and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipewise.auth.visibility import Actor
from pipewise.db.base import Base, utcnow
from pipewise.errors import ValidationFailed
from pipewise.events import bus
from pipewise.events.base import jsonable
from pipewise.leads import match_keys
from pipewise.leads.events import RecordsMerged
from pipewise.leads.models import DuplicateCandidate
from pipewise.records.history import record_change
from pipewise.records.models import RecordHistory
from pipewise.records.service import RecordService, apply_changes

MERGEABLE = ("lead", "contact", "account")
# Logs of what happened to a record id; they keep the id they were written with.
_UNTOUCHED_TABLES = frozenset({"outbox_event", "event_delivery", "idempotency_record", "duplicate_candidate", "audit_entry"})
_NEVER_COPIED = frozenset({"id", "created_at", "updated_at"})


def _foreign_keys_to(table_name: str) -> list[tuple[Table, Column[Any]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in _UNTOUCHED_TABLES:
            continue
        for column in table.columns:
            if any(fk.column.table.name == table_name for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _polymorphic_links() -> list[tuple[Table, Column[Any], Column[Any]]]:
    """(table, type column, id column) for columns pairs like related_type / related_id."""
    links = []
    for table in Base.metadata.sorted_tables:
        if table.name in _UNTOUCHED_TABLES:
            continue
        for column in table.columns:
            if column.name.endswith("_type"):
                id_column = table.columns.get(column.name[: -len("_type")] + "_id")
                if id_column is not None and not id_column.foreign_keys:
                    links.append((table, column, id_column))
    return links


def _unique_groups(table: Table, column: Column[Any]) -> tuple[list[list[Column[Any]]], bool]:
    """The other columns that together with ``column`` must be unique (PK, constraint or
    full unique index), and whether a partial unique index (e.g. live enrollments) also
    covers ``column``."""
    groups = []
    full = [list(table.primary_key.columns)] + [
        list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)
    ]
    partial = False
    for index in table.indexes:
        if not index.unique:
            continue
        if any(opts.get("where") is not None for opts in index.dialect_options.values()):
            partial = partial or column.name in index.columns
        else:
            full.append(list(index.columns))
    for cols in full:
        names = [c.name for c in cols]
        if column.name in names and len(cols) > 1:
            groups.append([c for c in cols if c.name != column.name])
    return groups, partial


def _repoint(
    session: Session, table: Table, column: Column[Any], old: uuid.UUID, new: uuid.UUID, *, where: Any = None
) -> tuple[int, int]:
    """Move rows from ``old`` to ``new``; return (moved, left behind)."""
    base = column == old if where is None else and_(column == old, where)
    groups, partial = _unique_groups(table, column)
    left = 0
    for others in groups:
        twin = table.alias("twin")
        same = [twin.c[column.name] == new] + [twin.c[c.name] == table.c[c.name] for c in others]
        clash = and_(base, exists(select(1).select_from(twin).where(*same)))
        if column.foreign_keys:
            # A second link to the same thing (the same deal twice) adds nothing: it goes.
            session.execute(delete(table).where(clash))
        else:
            # A row keyed by the record (a workflow run) stays under the merged id, kept.
            left += session.scalar(select(func.count()).select_from(table).where(clash)) or 0
            base = and_(base, ~exists(select(1).select_from(twin).where(*same)))
    if partial:
        return _repoint_rows(session, table, column, base, new), left
    result = session.execute(update(table).where(base).values({column.name: new}))
    return result.rowcount or 0, left


def _repoint_rows(session: Session, table: Table, column: Column[Any], base: Any, new: uuid.UUID) -> int:
    """Row by row, for tables with a partial unique index (one live enrollment per person
    and sequence): a row that would clash is ended first, then moved — kept, not deleted."""
    key = list(table.primary_key.columns)
    moved = 0
    for row in session.execute(select(*key).where(base)).all():
        match = and_(*(c == v for c, v in zip(key, row, strict=True)))
        try:
            with session.begin_nested():
                session.execute(update(table).where(match).values({column.name: new}))
        except IntegrityError:
            ended = {"status": "exited"} if "status" in table.c else {}
            for name, value in (("reason", "merged into a duplicate"), ("exit_reason", "merged into a duplicate"), ("ended_at", utcnow())):
                if name in table.c:
                    ended[name] = value
            session.execute(update(table).where(match).values({**ended, column.name: new}))
        moved += 1
    return moved


def merge(
    session: Session,
    record_type: str,
    survivor_id: uuid.UUID,
    merged_ids: list[uuid.UUID],
    *,
    actor: Actor,
    field_values: dict[str, uuid.UUID] | None = None,
) -> Any:
    """Merge ``merged_ids`` into ``survivor_id``. ``field_values`` names, per field, the record
    whose value the survivor keeps; other empty fields of the survivor are filled from the
    merged records, in the order given."""
    if record_type not in MERGEABLE:
        raise ValidationFailed.on("record_type", f"must be one of {', '.join(MERGEABLE)}")
    merged_ids = [i for i in dict.fromkeys(merged_ids) if i != survivor_id]
    if not merged_ids:
        raise ValidationFailed.on("merged_ids", "name at least one other record to merge into the survivor")
    service = RecordService(record_type)
    survivor = service.get(session, survivor_id, actor=actor, write=True)
    merged = [service.get(session, i, actor=actor, write=True) for i in merged_ids]
    by_id = {r.id: r for r in (survivor, *merged)}
    columns = [c.key for c in service.spec.model.__table__.columns if c.key not in _NEVER_COPIED]

    values: dict[str, Any] = {}
    for field_name, source_id in (field_values or {}).items():
        if field_name not in columns:
            raise ValidationFailed.on(f"field_values.{field_name}", f"{record_type} has no field {field_name!r}")
        if source_id not in by_id:
            raise ValidationFailed.on(f"field_values.{field_name}", "must name the survivor or one of the merged records")
        values[field_name] = getattr(by_id[source_id], field_name)
    for field_name in columns:
        if field_name in values or getattr(survivor, field_name) not in (None, "", {}, []):
            continue
        for record in merged:
            if getattr(record, field_name) not in (None, "", {}, []):
                values[field_name] = getattr(record, field_name)
                break
    if "custom" in columns and "custom" not in (field_values or {}):
        combined: dict[str, Any] = {}
        for record in reversed(merged):
            combined.update(record.custom or {})
        combined.update(survivor.custom or {})
        values["custom"] = combined
    snapshots = {str(r.id): jsonable({c: getattr(r, c) for c in columns}) for r in merged}
    table_name = service.spec.model.__tablename__
    moved: dict[str, int] = {}
    kept: dict[str, int] = {}
    session.flush()
    for old_id in merged_ids:
        # A merged record may reference another being merged (a lead converted into the
        # contact that now absorbs it); those self-references are cleared, not copied.
        links = [(t, c, None) for t, c in _foreign_keys_to(table_name)]
        links += [(t, c, type_column == record_type) for t, type_column, c in _polymorphic_links()]
        for table, column, where in links:
            count, left = _repoint(session, table, column, old_id, survivor_id, where=where)
            name = f"{table.name}.{column.name}"
            if count:
                moved[name] = moved.get(name, 0) + count
            if left:
                kept[name] = kept.get(name, 0) + left
        _repoint_candidates(session, record_type, old_id, survivor_id)
    session.execute(delete(service.spec.model).where(service.spec.model.id.in_(merged_ids)))
    session.expire(survivor)
    changes = apply_changes(survivor, {k: v for k, v in values.items() if k != "id"})
    for old_id in merged_ids:
        # The merged record's own trail keeps its id, so looking it up says where it went.
        session.add(
            RecordHistory(
                record_type=record_type,
                record_id=old_id,
                action="merged_into",
                changes={"survivor_id": [str(old_id), str(survivor_id)]},
                actor_id=actor.id if actor.id.int else None,
            )
        )
    record_change(
        session,
        record_type=record_type,
        record_id=survivor_id,
        action="merged",
        changes={**changes, "merged": [snapshots, None], "moved": [None, moved], **({"kept_under_merged_id": [None, kept]} if kept else {})},
        actor=actor,
    )
    bus.record(
        session,
        RecordsMerged(
            record_id=survivor_id,
            actor_id=actor.id,
            merged_type=record_type,
            merged_ids=list(merged_ids),
            moved=moved,
        ),
    )
    if record_type in match_keys.KEYED_TYPES:
        # The survivor may have taken names or addresses from the merged records; the
        # merged records' keys go when a lookup next meets them.
        match_keys.refresh(session, record_type, [survivor_id])
    return survivor


def _repoint_candidates(session: Session, record_type: str, old: uuid.UUID, new: uuid.UUID) -> None:
    """Candidate pairs between the survivor and a merged record are settled; the merged
    record's other open candidates go (a later scan finds them again against the survivor)."""
    dc = DuplicateCandidate
    settled = (
        ((dc.record_type == record_type) & (dc.record_id == old) & (dc.candidate_type == record_type) & (dc.candidate_id == new))
        | ((dc.record_type == record_type) & (dc.record_id == new) & (dc.candidate_type == record_type) & (dc.candidate_id == old))
    )
    session.execute(update(dc).where(settled).values(status="merged"))
    session.execute(
        delete(dc).where(
            dc.status == "open",
            ((dc.record_type == record_type) & (dc.record_id == old)) | ((dc.candidate_type == record_type) & (dc.candidate_id == old)),
        )
    )
