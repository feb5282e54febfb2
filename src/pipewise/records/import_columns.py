"""What every CSV import shares, whatever it imports: reading the header, guessing which
column goes to which field from the header's words, checking a mapping the person chose,
and writing a row report as CSV a chunk at a time."""

import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pipewise.errors import ErrorCollector, ValidationFailed
from pipewise.records import csv_cells
from pipewise.records.csvstream import BadRecord, Record

CUSTOM_PREFIX = "custom."


def header_key(header: str) -> str:
    """A header as it is compared: lower case, runs of spaces and underscores as one space."""
    return re.sub(r"[\s_]+", " ", header.strip().lower())


def alias_table(aliases: dict[str, list[str]]) -> dict[str, str]:
    """field -> its other names, turned into header key -> field (a field's own name included)."""
    return {header_key(alias): target for target, names in aliases.items() for alias in [target, *names]}


def suggest_mapping(headers: Sequence[str], table: dict[str, str], custom_keys: Iterable[str] = ()) -> dict[str, str]:
    """CSV column -> field, for the columns whose names we recognise (a custom field by its
    key or ``custom.<key>``); each field is taken by the first column that names it."""
    known = dict(table)
    for key in custom_keys:
        known.setdefault(header_key(key), CUSTOM_PREFIX + key)
        known.setdefault(header_key(CUSTOM_PREFIX + key), CUSTOM_PREFIX + key)
    mapping: dict[str, str] = {}
    for header in headers:
        target = known.get(header_key(header))
        if target and target not in mapping.values():
            mapping[header] = target
    return mapping


def check_mapping(headers: Sequence[str], mapping: dict[str, str], targets: Sequence[str], *, noun: str,
                  errors: ErrorCollector | None = None) -> ErrorCollector:
    """Every mapped column exists, names a field (or ``custom.<key>``), and no field is taken twice.
    Adds to ``errors`` (returned) so a caller can add its own rules before raising."""
    errors = errors or ErrorCollector()
    for column, target in mapping.items():
        if column not in headers:
            errors.add(f"mapping.{column}", f"the file has no column {column!r}")
        if target not in targets and not (target.startswith(CUSTOM_PREFIX) and len(target) > len(CUSTOM_PREFIX)):
            errors.add(f"mapping.{column}", f"{target!r} is not a {noun} field; use one of {', '.join(targets)} or custom.<key>")
    if len(set(mapping.values())) != len(mapping):
        errors.add("mapping", "two columns are mapped to the same field")
    return errors


def read_headers(records: Iterator[Record | BadRecord]) -> list[str]:
    """The header line of a file being read (consumed from ``records``)."""
    first = next(records, None)
    if first is None:
        raise ValidationFailed.on("file", "the file is empty")
    if isinstance(first, BadRecord):
        raise ValidationFailed.on("file", f"the header line cannot be read: {first.reason}")
    headers = [h.strip() for h in first.values]
    if len(set(headers)) != len(headers):
        raise ValidationFailed.on("file", "two columns of the header have the same name")
    return headers


def csv_chunks(header: Sequence[str], pages: Callable[[int], Sequence[Any]], row_of: Callable[[Any], Sequence[Any]],
               position: Callable[[Any], int]) -> Iterator[str]:
    """A report as formula-safe CSV text, a page of rows at a time: ``pages(after)`` gives the
    rows after position ``after`` (empty at the end), ``row_of`` a row's cells."""
    buffer = io.StringIO()
    writer = csv_cells.writer(buffer)
    writer.writerow(header)
    after = 0
    while rows := pages(after):
        writer.writerows(row_of(row) for row in rows)
        after = position(rows[-1])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
