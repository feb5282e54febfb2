"""Export of any record list as CSV or JSON: the list's own query (filters, search, sort,
saved view, the reader's visibility), read a page at a time so that memory stays flat
however many rows there are, written as it is read.

CSV cells go through ``csv_cells`` (no cell can start a formula); custom fields become
``custom.<key>`` columns, one per definition; nested values (a list, an object) are written
as JSON text. JSON is one array of the records as the API shows them."""

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.auth.visibility import Actor
from pipewise.db.base import utcnow
from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed
from pipewise.records import csv_cells, custom_fields
from pipewise.records.repository import MAX_PAGE, ListQuery
from pipewise.records.service import RecordService

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def check_format(value: str) -> str:
    if value not in FORMATS:
        raise ValidationFailed.on("format", f"must be one of {', '.join(FORMATS)}")
    return value


def records(service: RecordService[Any], query: ListQuery, actor: Actor) -> Iterator[Any]:
    """Every record of the list, a page at a time, each page in a short read of its own."""
    cursor = None
    while True:
        with session_scope(write=False) as session:
            page = service.list(session, actor=actor, query=replace(query, cursor=cursor, limit=MAX_PAGE))
            yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def columns(session: Session, service: RecordService[Any], out: type[BaseModel]) -> list[str]:
    plain = [name for name in out.model_fields if name != "custom"]
    if "custom" not in out.model_fields or not service.spec.has_custom_fields:
        return plain
    return [*plain, *(f"custom.{key}" for key in custom_fields.definitions(session, service.spec.name))]


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def as_csv(items: Iterator[Any], out: type[BaseModel], header: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv_cells.writer(buffer)
    writer.writerow(header)
    for count, record in enumerate(items, start=1):
        shown = out.model_validate(record).model_dump(mode="json")
        custom = shown.get("custom") or {}
        writer.writerow(_cell(custom.get(name[7:]) if name.startswith("custom.") else shown.get(name)) for name in header)
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def as_json(items: Iterator[Any], out: type[BaseModel]) -> Iterator[str]:
    yield "["
    separator = "\n"
    for record in items:
        yield separator + out.model_validate(record).model_dump_json()
        separator = ",\n"
    yield "\n]\n"


def export(service: RecordService[Any], out: type[BaseModel], query: ListQuery, actor: Actor, fmt: str) -> Iterator[str]:
    """The list's records as ``fmt`` text, a chunk at a time. The query is checked (and the
    header read) before the first chunk, so a bad filter is an error, not a broken file."""
    with session_scope(write=False) as session:
        service.list(session, actor=actor, query=replace(query, cursor=None, limit=1))
        header = columns(session, service, out)
    items = records(service, query, actor)
    return as_csv(items, out, header) if fmt == "csv" else as_json(items, out)


def log_export(service: RecordService[Any], query: ListQuery, actor: Actor, fmt: str) -> None:
    """The audit entry of an export: who took which list, with which filter."""
    with session_scope() as session:
        audit.log(session, "export", actor=actor, target_type=service.spec.name,
                  summary=f"Exported {service.spec.plural} as {fmt.upper()}",
                  details={"format": fmt, "filter": query.filter, "q": query.q, "sort": query.sort})


def filename(service: RecordService[Any], fmt: str) -> str:
    return f"{service.spec.plural}-{utcnow():%Y-%m-%d-%H%M}.{fmt}"
