"""indexes for the rest of the list filters and sorts the UI and API offer: leads by score
(total, fit, engagement; and by status, best first) or company, deals by pipeline, by close
date within a stage or an owner, by amount, accounts by country or size

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns): a list filtered on the first column walks the index in the order
# of the second (the default newest first, or the sort the page offers) instead of sorting
# every matching row; a one-column index serves a sort or a range filter on its column.
INDEXES = (
    ("lead", "ix_lead_status_score", ["status", "score"]),
    ("lead", "ix_lead_fit_score", ["fit_score"]),
    ("lead", "ix_lead_engagement_score", ["engagement_score"]),
    ("lead", "ix_lead_company", ["company"]),
    ("deal", "ix_deal_pipeline_created", ["pipeline_id", "created_at"]),
    ("deal", "ix_deal_stage_close", ["stage_id", "close_date"]),
    ("deal", "ix_deal_owner_close", ["owner_id", "close_date"]),
    ("deal", "ix_deal_amount", ["amount"]),
    ("account", "ix_account_country_created", ["country", "created_at"]),
    ("account", "ix_account_size", ["size"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
