"""sending quotes and the pricing guard: the accept link of a sent quote revision, files
attached to outbound e-mail, and the mentions_pricing flag on templates, step variants
and ledger messages

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base

revision: str = '0025'
down_revision: str | Sequence[str] | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGGED = ('email_template', 'step_variant', 'email_message')


def upgrade() -> None:
    op.create_table('quote_link',
    sa.Column('quote_id', sa.Uuid(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('last_viewed_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_quote_link_quote_id_quote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('quote_id', name=op.f('pk_quote_link'))
    )
    with op.batch_alter_table('quote_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_link_created_at'), ['created_at'], unique=False)

    op.create_table('email_attachment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['email_message.id'], name=op.f('fk_email_attachment_message_id_email_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_attachment'))
    )
    with op.batch_alter_table('email_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_attachment_message_id'), ['message_id'], unique=False)

    for table in FLAGGED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('mentions_pricing', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    for table in reversed(FLAGGED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('mentions_pricing')
    with op.batch_alter_table('email_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_attachment_message_id'))
    op.drop_table('email_attachment')
    with op.batch_alter_table('quote_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_link_created_at'))
    op.drop_table('quote_link')
