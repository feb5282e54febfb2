"""Installing and removing the triggers that note the days whose report sums a write
changed (migrations 0044–0046, and on SQLite 0050: a day noted once; docs/reports.md "Speed
at scale"): the one use of database triggers in Pipewise."""

import re
from collections.abc import Callable, Iterable

from alembic import op


def install(sqlite_triggers: Iterable[str], postgres_functions: dict[str, str], postgres_triggers: dict[str, str]) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, body in postgres_functions.items():
            # An AFTER trigger's result is ignored; a BEFORE DELETE one must give the row back.
            returned = "" if "RETURN" in body else "RETURN NULL;"
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} {returned} END $$")
        for name, definition in postgres_triggers.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")
    else:
        for statement in sqlite_triggers:
            op.execute(statement)


def remove(sqlite_triggers: Iterable[str], postgres_functions: Iterable[str], postgres_trigger_tables: dict[str, str]) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, table in postgres_trigger_tables.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in postgres_functions:
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for statement in sqlite_triggers:
            op.execute(f"DROP TRIGGER {statement.split()[2]}")


def note_every_day() -> None:
    """The rows already there: every day is to be computed."""
    op.execute("INSERT INTO report_stale_day (day) VALUES (NULL)")


_NOTE = re.compile(r"INSERT INTO report_stale_day \(day\) (.+?);", re.DOTALL)
_NOTED_ONCE = ("INSERT INTO report_stale_day (day) SELECT noted.day FROM (SELECT NULL AS day WHERE 0 UNION ALL {}) AS noted "
               "WHERE NOT EXISTS (SELECT 1 FROM report_stale_day WHERE day IS noted.day);")
_NOTED_ONCE_FORM = re.compile(re.escape(_NOTED_ONCE).replace(re.escape("{}"), "(.+?)"), re.DOTALL)


def noting_each_day_once(trigger: str) -> str:
    """A SQLite trigger that notes a day only where it is not noted yet. On SQLite writers
    take turns, so a refresh (which deletes its days' notes and computes them again in one
    write transaction) runs wholly before or after the write: a note already there is
    either still to be refreshed or was refreshed with the write seen. Each write otherwise
    added a row, two b-tree pages in its commit, and a report read every one of them. Not on
    PostgreSQL, where a refresh could delete a note that a write in flight saw and skipped."""
    if "SELECT noted.day FROM" in trigger:
        return trigger
    return _NOTE.sub(lambda m: _NOTED_ONCE.format(m.group(1)), trigger)


def noting_every_write(trigger: str) -> str:
    """``noting_each_day_once`` undone."""
    return _NOTED_ONCE_FORM.sub(lambda m: f"INSERT INTO report_stale_day (day) {m.group(1)};", trigger)


def rewrite_sqlite_triggers(rewrite: Callable[[str], str]) -> None:
    """Every SQLite trigger that notes report days, created again as ``rewrite`` gives it."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    found = bind.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%report_stale_day%'")
    for name, statement in found.all():
        op.execute(f"DROP TRIGGER {name}")
        op.execute(rewrite(statement))
