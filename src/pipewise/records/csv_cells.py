"""CSV that people open in a spreadsheet. A cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return would be read as a formula (CSV injection: a lead named
``=HYPERLINK(…)`` becomes a live link or worse), so it is written with a leading single
quote, as OWASP advises. Every CSV that Pipewise writes goes through ``writer``."""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: Any, **options: Any) -> SafeWriter:
    """``csv.writer`` whose cells cannot start a formula."""
    return SafeWriter(stream, **options)
