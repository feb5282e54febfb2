"""Reading a CSV file as a stream of records with their line numbers, in bounded memory.

A record that is too long, or not valid UTF-8, or not well-formed CSV, becomes a
``BadRecord`` naming its line and what is wrong; reading goes on with the next record."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_RECORD_BYTES = 1_000_000
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Record:
    line: int
    values: list[str]
    raw: str


@dataclass(frozen=True)
class BadRecord:
    line: int
    reason: str
    excerpt: str


def _physical_records(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(first line number, the record's bytes or None if it was too long, its size).
    A record spans several lines while a quoted field is open."""
    line_no = 0
    while True:
        start = line_no + 1
        parts: list[bytes] = []
        size = quotes = 0
        too_long = open_line = False
        while True:
            chunk = stream.readline(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            quotes += chunk.count(b'"')
            open_line = not chunk.endswith(b"\n")
            if size > max_bytes:
                too_long, parts = True, []
            elif not too_long:
                parts.append(chunk)
            if not open_line:
                line_no += 1
                if quotes % 2 == 0:
                    break
        if size == 0:
            return
        if open_line:  # the file's last line has no line break
            line_no += 1
        yield start, (None if too_long else b"".join(parts)), size


def read_records(stream: BinaryIO, *, delimiter: str = ",", max_bytes: int = MAX_RECORD_BYTES) -> Iterator[Record | BadRecord]:
    first = True
    for line, data, size in _physical_records(stream, max_bytes):
        if data is None:
            yield BadRecord(line, f"the record is {size / 1_000_000:.1f} MB long; the limit is {max_bytes / 1_000_000:.1f} MB", "")
            continue
        if first and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        first = False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            excerpt = data.decode("utf-8", errors="replace")[:120]
            yield BadRecord(line, f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at position {exc.start + 1}); save the file as UTF-8", excerpt)
            continue
        stripped = text.rstrip("\r\n")
        if not stripped.strip():
            continue
        if '"' not in stripped and "\r" not in stripped:
            yield Record(line, stripped.split(delimiter), stripped)  # what the csv module would make of it
            continue
        try:
            values = next(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
        except (csv.Error, StopIteration) as exc:
            yield BadRecord(line, f"is not well-formed CSV ({exc})", stripped[:120])
            continue
        yield Record(line, values, stripped)


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and counts the bytes read, for progress bars."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n
