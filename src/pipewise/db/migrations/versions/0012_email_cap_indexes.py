"""e-mail caps: count a sender's and an account's recent messages by created_at

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The daily caps count the last 24 hours of a mailbox's and an account's automated
    # mail by created_at; indexed by sent_at, they read the whole history of each.
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.drop_index("ix_email_message_sender_sent")
        batch_op.drop_index("ix_email_message_account_sent")
        batch_op.create_index("ix_email_message_sender_created", ["sender_id", "created_at"], unique=False)
        batch_op.create_index("ix_email_message_account_created", ["account_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.drop_index("ix_email_message_account_created")
        batch_op.drop_index("ix_email_message_sender_created")
        batch_op.create_index("ix_email_message_account_sent", ["account_id", "sent_at"], unique=False)
        batch_op.create_index("ix_email_message_sender_sent", ["sender_id", "sent_at"], unique=False)
