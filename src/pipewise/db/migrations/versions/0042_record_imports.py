"""imports of accounts, contacts and deals, and their row reports

Revision ID: 0042
Revises: 0040
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pipewise.db.base

revision: str = '0042'
down_revision: str | Sequence[str] | None = '0040'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('record_import',
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('on_duplicate', sa.String(length=10), nullable=False),
    sa.Column('mapping', JSON, nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_import'))
    )
    with op.batch_alter_table('record_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_import_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_record_import_actor', ['actor_id', 'created_at'], unique=False)

    op.create_table('record_import_row',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('import_id', sa.Uuid(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=True),
    sa.Column('errors', JSON, nullable=False),
    sa.Column('excerpt', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['record_import.id'], name=op.f('fk_record_import_row_import_id_record_import'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_import_row'))
    )
    with op.batch_alter_table('record_import_row', schema=None) as batch_op:
        batch_op.create_index('ix_record_import_row_import_line', ['import_id', 'line'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_import_row', schema=None) as batch_op:
        batch_op.drop_index('ix_record_import_row_import_line')
    op.drop_table('record_import_row')
    with op.batch_alter_table('record_import', schema=None) as batch_op:
        batch_op.drop_index('ix_record_import_actor')
        batch_op.drop_index(batch_op.f('ix_record_import_created_at'))
    op.drop_table('record_import')
