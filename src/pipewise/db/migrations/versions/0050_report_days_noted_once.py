"""on SQLite, the report triggers note a day only where it is not noted yet

A lead's create added a row to ``report_stale_day`` (and two b-tree pages to its commit),
and so did its routing; the notes of a busy day were thousands of rows, each read by every
report. See ``report_triggers.noting_each_day_once`` for why this holds on SQLite only.

Revision ID: 0050
Revises: 0049
"""

from collections.abc import Sequence

from alembic import op

from pipewise.db import report_triggers


revision: str = '0050'
down_revision: str | Sequence[str] | None = '0049'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    report_triggers.rewrite_sqlite_triggers(report_triggers.noting_each_day_once)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DELETE FROM report_stale_day WHERE id NOT IN (SELECT min(id) FROM report_stale_day GROUP BY day)")


def downgrade() -> None:
    report_triggers.rewrite_sqlite_triggers(report_triggers.noting_every_write)
