"""Small SELECTs, and INSERTs that return what they wrote, run straight on the driver's cursor.

SQLAlchemy spends about 20 µs on every execution of a statement it has compiled already
(the cache key is computed by walking the statement, an execution context is built, the
result wrapped), ten times what SQLite takes to answer an indexed read. For the few reads
every request or record write makes (the API token's actor, a lead's account by domain,
its same-address duplicates) that was most of their cost. A ``PlainStatement`` is compiled
once per dialect into its SQL, the order of its parameters with their bind processors and
its columns' result processors, and its rows come back as tuples (``db.session.read``).

An INSERT names every column it writes in its parameters (no Python-side defaults are
filled in); its ``RETURNING`` columns come back as a SELECT's would. Only for statements
whose parameters are all plain values: an expanding ``IN`` list is
refused when the statement is first planned. Such reads do not pass through SQLAlchemy's
cursor events (statement logging with ``echo``)."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Insert, Select
from sqlalchemy.sql.selectable import CompoundSelect
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.util import find_tables
from sqlalchemy.sql.visitors import iterate

from pipewise.db.deferred_inserts import driver_cursor


class Rows(list):  # type: ignore[type-arg]
    """A read's rows as tuples, answering the few ``Result`` calls its readers make."""

    def all(self) -> list[tuple[Any, ...]]:
        return self

    def first(self) -> tuple[Any, ...] | None:
        return self[0] if self else None

    def scalar(self) -> Any:
        return self[0][0] if self else None


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # the parameters in the order the SQL takes them (positional styles)
    fixed: dict[str, Any]  # values the statement carries itself (a LIMIT)
    binds: tuple[tuple[str, Any], ...]  # (name, bind processor) where the type converts values
    results: tuple[tuple[int, Any], ...]  # (position, result processor)
    positional: bool

    def parameters(self, given: dict[str, Any]) -> Any:
        values = {**self.fixed, **given}
        for name, process in self.binds:
            if values.get(name) is not None:
                values[name] = process(values[name])
        return [values[name] for name in self.names] if self.positional else values

    def row(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self.results:
            return raw
        row = list(raw)
        for index, process in self.results:
            if row[index] is not None:
                row[index] = process(row[index])
        return tuple(row)


class PlainStatement:
    """A Core ``select`` (or a union of them), or an ``insert``, to be run on the driver's cursor."""

    def __init__(self, statement: Select[Any] | CompoundSelect | Insert) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    @cached_property
    def tables_read(self) -> frozenset[Table] | None:
        """The tables a SELECT reads, subqueries included; None for an INSERT, or where
        SQL written as text may name others."""
        if isinstance(self.statement, Insert) or any(isinstance(e, TextClause) for e in iterate(self.statement)):
            return None
        return frozenset(find_tables(self.statement)) or None

    def rows(self, connection: Connection, parameters: dict[str, Any]) -> Rows:
        dialect = connection.dialect
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = self._plan(dialect)
        with driver_cursor(connection, plan.sql) as cursor:
            cursor.execute(plan.sql, plan.parameters(parameters))
            found = cursor.fetchall()
        return Rows(plan.row(raw) for raw in found)

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("a PlainStatement takes plain parameters only, not an expanding IN list")
        binds = tuple(
            (name, process) for name, bind in compiled.binds.items()
            if (process := bind.type._cached_bind_processor(dialect)) is not None  # noqa: SLF001
        )
        results = tuple(
            (index, process) for index, column in enumerate(self.statement.exported_columns)
            if (process := column.type._cached_result_processor(dialect, None)) is not None  # noqa: SLF001
        )
        return _Plan(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            fixed={name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required},
            binds=binds,
            results=results,
            positional=compiled.positional,
        )
