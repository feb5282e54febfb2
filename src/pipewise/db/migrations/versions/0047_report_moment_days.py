"""the creation and closing moments of the deals in the per-day report sums (the automation
report's open deal-days), and forward moves in the duration histograms

Revision ID: 0047
Revises: 0046
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db import report_triggers


revision: str = '0047'
down_revision: str | Sequence[str] | None = '0046'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('report_deal_day', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moment_days', sa.Float(), server_default='0', nullable=False))
    report_triggers.note_every_day()


def downgrade() -> None:
    with op.batch_alter_table('report_deal_day', schema=None) as batch_op:
        batch_op.drop_column('moment_days')
