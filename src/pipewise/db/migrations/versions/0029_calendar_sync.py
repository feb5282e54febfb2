"""calendar sync and reminders: a user's CalDAV connection (password encrypted) and their
reminder offsets

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = '0029'
down_revision: str | Sequence[str] | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_connection',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('password', sa.String(length=500), nullable=True),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calendar_connection_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_connection'))
    )
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_connection_created_at'), ['created_at'], unique=False)

    op.create_table('meeting_reminder_settings',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('offsets_minutes', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('remind_invitee', sa.Boolean(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_reminder_settings_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_meeting_reminder_settings'))
    )
    with op.batch_alter_table('meeting_reminder_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_reminder_settings_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meeting_reminder_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_reminder_settings_created_at'))

    op.drop_table('meeting_reminder_settings')
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_connection_created_at'))

    op.drop_table('calendar_connection')
