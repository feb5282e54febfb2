"""indexes for list views: contacts by lifecycle stage, newest first

Revision ID: 0010
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A list filtered by stage and sorted by creation (the default sort) walks this index
    # instead of sorting every contact of the stage.
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index("ix_contact_stage_created", ["lifecycle_stage", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_stage_created")
