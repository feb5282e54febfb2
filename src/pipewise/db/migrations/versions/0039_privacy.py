"""the consent ledger and retention rules

Revision ID: 0039
Revises: 0038
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pipewise.db.base

revision: str = '0039'
down_revision: str | Sequence[str] | None = '0038'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('consent_entry',
    sa.Column('id', BIGINT, autoincrement=True, nullable=False),
    sa.Column('subject_type', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('legal_basis', sa.String(length=30), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_entry'))
    )
    with op.batch_alter_table('consent_entry', schema=None) as batch_op:
        batch_op.create_index('ix_consent_entry_subject', ['subject_type', 'subject_id', 'purpose', 'id'], unique=False)

    op.create_table('retention_rule',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('last_run_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_retention_rule_author_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_rule'))
    )
    with op.batch_alter_table('retention_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_rule_created_at'), ['created_at'], unique=False)

    op.create_table('retention_run',
    sa.Column('id', BIGINT, autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.Uuid(), nullable=False),
    sa.Column('at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.Column('record_ids', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['retention_rule.id'], name=op.f('fk_retention_run_rule_id_retention_rule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_run'))
    )
    with op.batch_alter_table('retention_run', schema=None) as batch_op:
        batch_op.create_index('ix_retention_run_rule', ['rule_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retention_run', schema=None) as batch_op:
        batch_op.drop_index('ix_retention_run_rule')
    op.drop_table('retention_run')
    with op.batch_alter_table('retention_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_rule_created_at'))
    op.drop_table('retention_rule')
    with op.batch_alter_table('consent_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_entry_subject')
    op.drop_table('consent_entry')
