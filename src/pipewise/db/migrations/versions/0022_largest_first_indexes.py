"""the deal amount and account size indexes kept in the order of the lists sorted biggest
first (DESC, empty values last; see pipewise.db.base.LargestFirst)

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db.base import LargestFirst

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("deal", "ix_deal_amount", "amount"), ("account", "ix_account_size", "size"))


def upgrade() -> None:
    for table, name, column in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [LargestFirst(sa.column(column))])


def downgrade() -> None:
    for table, name, column in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
