"""Installing and removing the triggers that note the days whose report sums a write
changed (migrations 0044–0046; docs/reports.md "Speed at scale"): the one use of database
triggers in Pipewise."""

from collections.abc import Iterable

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
