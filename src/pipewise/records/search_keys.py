"""The keys that global search and sorted lists read a text field by, and the indexes
behind them (see ``records.search``)."""

from typing import Any

from sqlalchemy import Index, func

# Fields every write stores lower-cased (addresses and domains, see records.normalize).
STORED_LOWER_CASE = frozenset({"email", "domain"})


def index_name(table_name: str, field_name: str) -> str:
    return f"ix_{table_name}_search_{field_name}"


def search_indexes(model: Any, *fields: str) -> list[Index]:
    """The ``lower(column)`` indexes global search reads (declare them beside the model); a
    field stored lower-cased needs a plain index on its column instead."""
    table = model.__table__
    return [Index(index_name(table.name, name), func.lower(table.c[name])) for name in fields if name not in STORED_LOWER_CASE]


def sorts_lower_case(model: Any, name: str) -> bool:
    """A list sorted by ``name`` orders by its lower-case form: search indexed it so."""
    table = model.__table__
    return name not in STORED_LOWER_CASE and any(ix.name == index_name(table.name, name) for ix in table.indexes)


def sort_key(model: Any, name: str) -> Any:
    """What a list sorted by ``name`` orders by: the lower-case form where search indexed
    it, so the list walks that index and case does not split the alphabet; else the column."""
    column = getattr(model, name)
    return func.lower(column) if sorts_lower_case(model, name) else column


def key(column: Any) -> Any:
    """The form of ``column`` that search compares and its index holds."""
    return column if column.key in STORED_LOWER_CASE else func.lower(column)
