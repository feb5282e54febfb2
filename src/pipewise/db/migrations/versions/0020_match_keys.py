"""blocking keys of leads and contacts for the duplicate check (match_key), filled in for
the existing leads and contacts

Revision ID: 0020
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 20_000


def upgrade() -> None:
    op.create_table(
        "match_key",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_id", name="pk_match_key"),
        sqlite_with_rowid=False,
    )
    _fill_in()


def downgrade() -> None:
    op.drop_table("match_key")


def _fill_in() -> None:
    """Keys for every lead and contact already stored, read and written in chunks by id."""
    from pipewise.leads.match_keys import keys_of
    from pipewise.leads.similarity import Person

    connection = op.get_bind()
    uuid_type = sa.Uuid()
    lead = sa.table("lead", sa.column("id", uuid_type), *(sa.column(c) for c in ("first_name", "last_name", "email", "phone", "company", "domain")))
    contact = sa.table("contact", sa.column("id", uuid_type), sa.column("account_id", uuid_type),
                       *(sa.column(c) for c in ("first_name", "last_name", "email", "phone")))
    account = sa.table("account", sa.column("id", uuid_type), sa.column("name"), sa.column("domain"))
    key = sa.table("match_key", sa.column("key"), sa.column("record_id", uuid_type), sa.column("record_type"))
    sources = {
        "lead": (lead.c.id, sa.select(lead.c.id, lead.c.first_name, lead.c.last_name, lead.c.email, lead.c.phone,
                                      lead.c.company, lead.c.domain)),
        "contact": (contact.c.id, sa.select(contact.c.id, contact.c.first_name, contact.c.last_name, contact.c.email,
                                            contact.c.phone, account.c.name, account.c.domain)
                    .select_from(contact.outerjoin(account, account.c.id == contact.c.account_id))),
    }
    for record_type, (id_column, stmt) in sources.items():
        last = None
        while True:
            page = stmt.order_by(id_column).limit(CHUNK)
            rows = connection.execute(page if last is None else page.where(id_column > last)).all()
            if not rows:
                break
            keys = [{"key": k, "record_id": row[0], "record_type": record_type}
                    for row in rows for k in keys_of(Person(record_type, *row))]
            if keys:
                connection.execute(key.insert(), keys)
            last = rows[-1][0]
