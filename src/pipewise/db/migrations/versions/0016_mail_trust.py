"""mail trust: verified sender addresses, idempotency keys of one-off sends, mailbox
passwords encrypted at rest

Existing plaintext SMTP and IMAP passwords are encrypted with the key derived from the
secret key. A mailbox whose From address is not its user's login address keeps it: the
address is recorded as verified ("existing"), and an admin can revoke it.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db.base import UTCDateTime, utcnow, uuid7

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_address",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("verified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_mail_address_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_mail_address"),
        sa.UniqueConstraint("user_id", "address", name="uq_mail_address_user_id"),
    )
    op.create_index("ix_mail_address_user_id", "mail_address", ["user_id"], unique=False)
    op.create_index("ix_mail_address_created_at", "mail_address", ["created_at"], unique=False)
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_key", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint("uq_email_message_send_key", ["send_key"])
    _encrypt_passwords()
    _keep_existing_senders()


def _encrypt_passwords() -> None:
    from pipewise.mail.secrets import PREFIX, encrypt

    connection = op.get_bind()
    mailbox = sa.table("mailbox", sa.column("id", sa.Uuid()), sa.column("smtp_password", sa.String()), sa.column("imap_password", sa.String()))
    for row in connection.execute(sa.select(mailbox.c.id, mailbox.c.smtp_password, mailbox.c.imap_password)).all():
        values = {
            name: encrypt(value)
            for name, value in (("smtp_password", row.smtp_password), ("imap_password", row.imap_password))
            if value and not value.startswith(PREFIX)
        }
        if values:
            connection.execute(mailbox.update().where(mailbox.c.id == row.id).values(**values))


def _keep_existing_senders() -> None:
    connection = op.get_bind()
    mailbox = sa.table("mailbox", sa.column("user_id", sa.Uuid()), sa.column("from_address", sa.String()))
    user = sa.table("user", sa.column("id", sa.Uuid()), sa.column("email", sa.String()))
    rows = connection.execute(
        sa.select(mailbox.c.user_id, mailbox.c.from_address)
        .join(user, user.c.id == mailbox.c.user_id)
        .where(sa.func.lower(mailbox.c.from_address) != sa.func.lower(user.c.email))
    ).all()
    if rows:
        now = utcnow()
        table = sa.table(
            "mail_address", sa.column("id", sa.Uuid()), sa.column("user_id", sa.Uuid()), sa.column("address", sa.String()),
            sa.column("method", sa.String()), *(sa.column(name, UTCDateTime(timezone=True)) for name in ("verified_at", "created_at", "updated_at")),
        )
        connection.execute(table.insert(), [
            {"id": uuid7(), "user_id": r.user_id, "address": r.from_address.lower(), "method": "existing", "verified_at": now,
             "created_at": now, "updated_at": now}
            for r in rows
        ])


def downgrade() -> None:
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.drop_constraint("uq_email_message_send_key", type_="unique")
        batch_op.drop_column("send_key")
    op.drop_index("ix_mail_address_created_at", table_name="mail_address")
    op.drop_index("ix_mail_address_user_id", table_name="mail_address")
    op.drop_table("mail_address")
