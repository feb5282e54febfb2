"""global search: lower(column) indexes on the names, e-mails, phones and domains that
the search box matches by prefix (pipewise.records.search)

Revision ID: 0035
Revises: 0032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | Sequence[str] | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = {
    "account": ("name", "domain"),
    "contact": ("first_name", "last_name", "email", "phone"),
    "lead": ("first_name", "last_name", "email", "company", "domain", "phone"),
    "deal": ("name",),
    "quote": ("number", "title"),
}


def upgrade() -> None:
    for table, columns in SEARCHED.items():
        for column in columns:
            op.create_index(f"ix_{table}_search_{column}", table, [sa.func.lower(sa.column(column))])


def downgrade() -> None:
    for table, columns in SEARCHED.items():
        for column in columns:
            op.drop_index(f"ix_{table}_search_{column}", table_name=table)
