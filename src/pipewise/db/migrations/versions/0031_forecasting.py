"""forecasting: category calls (append-only), quotas, weekly snapshots and their lines

Revision ID: 0031
Revises: 0029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base

revision: str = '0031'
down_revision: str | Sequence[str] | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('forecast_override',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('previous', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_forecast_override_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_forecast_override_deal_id_deal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_override'))
    )
    with op.batch_alter_table('forecast_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_override_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_forecast_override_deal_level', ['deal_id', 'level', 'id'], unique=False)

    op.create_table('forecast_quota',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=45), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('set_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by'], ['user.id'], name=op.f('fk_forecast_quota_set_by_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_forecast_quota_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_forecast_quota_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_quota')),
    sa.UniqueConstraint('period', 'scope', name=op.f('uq_forecast_quota_period'))
    )
    with op.batch_alter_table('forecast_quota', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_quota_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forecast_quota_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forecast_quota_user_id'), ['user_id'], unique=False)

    op.create_table('forecast_snapshot',
    sa.Column('taken_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('week', sa.Date(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_snapshot')),
    sa.UniqueConstraint('week', name=op.f('uq_forecast_snapshot_week'))
    )
    with op.batch_alter_table('forecast_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_snapshot_taken_at'), ['taken_at'], unique=False)

    op.create_table('forecast_snapshot_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('snapshot_id', sa.Uuid(), nullable=False),
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('stage_kind', sa.String(length=10), nullable=False),
    sa.Column('stage_probability', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['forecast_snapshot.id'], name=op.f('fk_forecast_snapshot_line_snapshot_id_forecast_snapshot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_snapshot_line'))
    )
    with op.batch_alter_table('forecast_snapshot_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_snapshot_line_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index('ix_forecast_snapshot_line_snapshot_close', ['snapshot_id', 'close_date'], unique=False)


def downgrade() -> None:
    op.drop_table('forecast_snapshot_line')
    op.drop_table('forecast_snapshot')
    op.drop_table('forecast_quota')
    op.drop_table('forecast_override')
