"""indexes for the list filters the UI and API offer: leads by status or owner and deals by
stage or owner, each newest first

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns): a list filtered on the first column and sorted by creation (the
# default sort) walks the index in order instead of sorting every matching row.
INDEXES = (
    ("lead", "ix_lead_status_created", ["status", "created_at"]),
    ("lead", "ix_lead_owner_created", ["owner_id", "created_at"]),
    ("deal", "ix_deal_stage_created", ["stage_id", "created_at"]),
    ("deal", "ix_deal_owner_created", ["owner_id", "created_at"]),
    ("account", "ix_account_owner_created", ["owner_id", "created_at"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
