"""blocking keys of leads and contacts for the duplicate check (match_key), filled in for
the existing leads and contacts

Revision ID: 0020
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_key",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_id", name="pk_match_key"),
        sqlite_with_rowid=False,
    )
    _fill_in()


def downgrade() -> None:
    op.drop_table("match_key")


def _fill_in() -> None:
    """Keys for every lead and contact already stored."""
    from pipewise.leads.match_keys import backfill

    backfill(op.get_bind())
