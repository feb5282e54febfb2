"""record versions: a version column on every record type (ETag / If-Match);
scoring trainings run by the worker

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db.base import UTCDateTime

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = (
    "account", "contact", "activity", "task", "custom_field", "lead", "deal", "pipeline", "stage", "product",
)


def upgrade() -> None:
    for table in VERSIONED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.create_table(
        "scoring_training",
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("rescored", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["user.id"], name="fk_scoring_training_requested_by_user", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["scoring_model.id"], name="fk_scoring_training_model_id_scoring_model", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_training"),
    )
    op.create_index("ix_scoring_training_requested_at", "scoring_training", ["requested_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scoring_training_requested_at", table_name="scoring_training")
    op.drop_table("scoring_training")
    for table in VERSIONED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
