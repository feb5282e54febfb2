"""holdout groups: the share a sequence or workflow holds out, and each record's frozen
assignment

Revision ID: 0032
Revises: 0031
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base

revision: str = '0032'
down_revision: str | Sequence[str] | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('holdout_assignment',
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('held_out', sa.Boolean(), nullable=False),
    sa.Column('share', sa.Integer(), nullable=False),
    sa.Column('assigned_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'subject_id', 'record_id', name=op.f('pk_holdout_assignment'))
    )
    with op.batch_alter_table('sequence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holdout_percent', sa.Integer(), server_default=sa.text('0'), nullable=False))
    with op.batch_alter_table('workflow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holdout_percent', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('workflow', schema=None) as batch_op:
        batch_op.drop_column('holdout_percent')
    with op.batch_alter_table('sequence', schema=None) as batch_op:
        batch_op.drop_column('holdout_percent')
    op.drop_table('holdout_assignment')
