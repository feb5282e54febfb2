"""indexes the people reports read alone: activities by date (with owner, type and deal),
a lead's first activity by a person, leads by creation (with source, owner, first touch)

Revision ID: 0043
Revises: 0042
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0043'
down_revision: str | Sequence[str] | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each replaces the single-column index that is its first column.
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_occurred_cover', ['occurred_at', 'owner_id', 'type', 'deal_id'], unique=False)
        batch_op.create_index('ix_activity_lead_first', ['lead_id', 'automated', 'occurred_at'], unique=False)
        batch_op.drop_index('ix_activity_occurred_at')
        batch_op.drop_index('ix_activity_lead_id')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_created_cover', ['created_at', 'source', 'owner_id', 'first_touched_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_created_cover')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_lead_id', ['lead_id'], unique=False)
        batch_op.create_index('ix_activity_occurred_at', ['occurred_at'], unique=False)
        batch_op.drop_index('ix_activity_lead_first')
        batch_op.drop_index('ix_activity_occurred_cover')
