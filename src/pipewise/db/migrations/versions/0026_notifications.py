"""the notification inbox and e-mail preferences; the workflow notifications move into it

Revision ID: 0026
Revises: 0025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base

revision: str = '0026'
down_revision: str | Sequence[str] | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREAD = sa.text('read_at IS NULL')


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('record_type', sa.String(length=40), nullable=True),
    sa.Column('record_id', sa.Uuid(), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user', ['user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_notification_unread', ['user_id', 'created_at'], unique=False, postgresql_where=UNREAD, sqlite_where=UNREAD)

    op.create_table('notification_preference',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_preference_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preference'))
    )

    op.execute(
        "INSERT INTO notification (id, user_id, kind, title, body, link, record_type, record_id, key, created_at, read_at) "
        "SELECT id, user_id, 'workflow', title, body, NULL, record_type, record_id, key, created_at, read_at "
        "FROM automation_notification"
    )
    with op.batch_alter_table('automation_notification', schema=None) as batch_op:
        batch_op.drop_index('ix_automation_notification_unread', postgresql_where=UNREAD, sqlite_where=UNREAD)
    op.drop_table('automation_notification')


def downgrade() -> None:
    op.create_table('automation_notification',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('record_type', sa.String(length=20), nullable=True),
    sa.Column('record_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_automation_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_automation_notification_key'))
    )
    with op.batch_alter_table('automation_notification', schema=None) as batch_op:
        batch_op.create_index('ix_automation_notification_unread', ['user_id'], unique=False, postgresql_where=UNREAD, sqlite_where=UNREAD)
    op.execute(
        "INSERT INTO automation_notification (id, user_id, key, title, body, record_type, record_id, created_at, read_at) "
        "SELECT id, user_id, key, title, body, record_type, record_id, created_at, read_at "
        "FROM notification WHERE kind = 'workflow'"
    )
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_unread', postgresql_where=UNREAD, sqlite_where=UNREAD)
        batch_op.drop_index('ix_notification_user')
    op.drop_table('notification')
