"""sessions and owners: a per-user session generation, the log-in throttle, and record
owners that cannot be deleted from under their records (ON DELETE RESTRICT)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db.base import UTCDateTime

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED_TABLES = ("account", "contact", "lead", "deal", "activity", "task")


def upgrade() -> None:
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttle")),
    )
    _set_owner_ondelete("RESTRICT")


def downgrade() -> None:
    _set_owner_ondelete("SET NULL")
    op.drop_table("login_throttle")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("session_generation")


def _set_owner_ondelete(action: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a constraint by copying the table; with foreign keys on, dropping
        # the old copy would fire the ON DELETE actions of the rows pointing at it. The
        # pragma only takes effect outside a transaction.
        op.execute("COMMIT")
        op.execute("PRAGMA foreign_keys=OFF")
        op.execute("BEGIN")
    for table in OWNED_TABLES:
        name = f"fk_{table}_owner_id_user"
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")
            batch_op.create_foreign_key(name, "user", ["owner_id"], ["id"], ondelete=action)
    if sqlite:
        op.execute("COMMIT")
        op.execute("PRAGMA foreign_keys=ON")
        op.execute("BEGIN")
