"""drop the single-column indexes that a composite index of the same table starts with

Each served only what the composite index serves as well (an equality, a range, an
ordering, a foreign key's check), and each cost every insert and every update of its
column a page of its own: a lead's create touched 29 b-trees.

Revision ID: 0048
Revises: 0047
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0048'
down_revision: str | Sequence[str] | None = '0047'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the index ix_<table>_<column> goes; the composite one kept beside it
# starts with the column.
PREFIX_INDEXES = (
    ("lead", "owner_id"),  # ix_lead_owner_created, ix_lead_owner_score
    ("lead", "status"),  # ix_lead_status_created, ix_lead_status_score
    ("lead", "created_at"),  # ix_lead_created_cover
    ("lead", "source"),  # ix_lead_source_owner_created
    ("contact", "owner_id"),  # ix_contact_owner_created
    ("contact", "lifecycle_stage"),  # ix_contact_stage_created
    ("deal", "owner_id"),  # ix_deal_owner_created, ix_deal_owner_close
    ("deal", "pipeline_id"),  # ix_deal_pipeline_created
    ("deal", "stage_id"),  # ix_deal_stage_created, ix_deal_stage_close
    ("account", "owner_id"),  # ix_account_owner_created
    ("account", "country"),  # ix_account_country_created
)


def upgrade() -> None:
    for table, column in PREFIX_INDEXES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def downgrade() -> None:
    for table, column in PREFIX_INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column])
