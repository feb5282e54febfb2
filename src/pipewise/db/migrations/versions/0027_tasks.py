"""tasks grow up: a reminder time (and when it fired), a recurrence rule and the next
occurrence; each user's calendar feed token

Revision ID: 0027
Revises: 0026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base

revision: str = '0027'
down_revision: str | Sequence[str] | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remind_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recurrence', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('next_task_id', sa.Uuid(), nullable=True))
    op.create_table('calendar_feed',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calendar_feed_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_feed'))
    )


def downgrade() -> None:
    op.drop_table('calendar_feed')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('next_task_id')
        batch_op.drop_column('recurrence')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('remind_at')
