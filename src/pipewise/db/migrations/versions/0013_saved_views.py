"""saved views: named, optionally shared filters of a record type's list

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pipewise.db.base import UTCDateTime

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_view",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("filter", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True),
        sa.Column("sort", sa.String(length=60), nullable=True),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "record_type", "name", name="uq_saved_view_owner_type_name"),
    )
    op.create_index("ix_saved_view_owner_id", "saved_view", ["owner_id"], unique=False)
    op.create_index("ix_saved_view_created_at", "saved_view", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_saved_view_created_at", table_name="saved_view")
    op.drop_index("ix_saved_view_owner_id", table_name="saved_view")
    op.drop_table("saved_view")
