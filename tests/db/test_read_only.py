"""``read_only_scope``: a transaction that may only read (the worker's look ahead). A write
in it fails at once and leaves nothing; the connection writes again once it is back in
the pool."""

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from pipewise.crm.models import Contact
from pipewise.db.session import read_only_scope, session_scope


def test_a_write_in_a_read_only_transaction_fails_and_the_connection_writes_again_after(session, factory):
    contact = factory.contact(last_name="Reader")
    session.commit()
    with read_only_scope() as reading:
        assert reading.scalar(select(func.count()).select_from(Contact)) == 1
        with pytest.raises(DBAPIError, match="(?i)read.?only"):
            reading.execute(update(Contact).values(last_name="Writer"))
            reading.flush()
        reading.rollback()
    for _ in range(3):  # whichever pooled connection comes next
        with session_scope() as writing:
            writing.execute(update(Contact).where(Contact.id == contact.id).values(title="written"))
    session.expire_all()
    assert (session.get(Contact, contact.id).last_name, session.get(Contact, contact.id).title) == ("Reader", "written")
