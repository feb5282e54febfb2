"""A PlainSelect answers as SQLAlchemy would (db/plain_select.py): the same rows, the same
Python values (ids, enums, timestamps), its own limits, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import bindparam, literal_column, select, union_all

from pipewise.auth.models import Team, User
from pipewise.crm.models import Account, Contact
from pipewise.db.plain_select import PlainSelect
from pipewise.db.session import read
from pipewise.leads.models import Lead


def both(session, statement, parameters):  # type: ignore[no-untyped-def]
    plain = read(session, PlainSelect(statement), parameters)
    assert plain == [tuple(row) for row in session.connection().execute(statement, parameters)]
    return plain


def test_ids_enums_and_times_come_back_as_sqlalchemy_gives_them(session, factory):
    team = factory.team("North")
    manager = factory.user(role="manager", team=team)
    session.flush()
    session.get(Team, team.id).manager_id = manager.id
    session.flush()
    statement = select(User.id, User.role, User.team_id, User.created_at, Team.id).outerjoin(
        Team, Team.manager_id == User.id
    ).where(User.email == bindparam("email"))
    rows = both(session, statement, {"email": manager.email})
    assert rows == [(manager.id, manager.role, team.id, manager.created_at, team.id)]
    assert both(session, statement, {"email": "nobody@example.com"}) == []


def test_a_limit_and_an_order_the_statement_carries(session, factory):
    accounts = [factory.account(name=f"Acme {n}", domain="acme.example") for n in range(3)]
    statement = select(Account.id).where(Account.domain == bindparam("domain")).order_by(Account.created_at).limit(1)
    result = read(session, PlainSelect(statement), {"domain": "acme.example"})
    assert result.scalar() == accounts[0].id and result.first() == (accounts[0].id,)
    assert both(session, statement, {"domain": "acme.example"}) == [(accounts[0].id,)]
    assert read(session, PlainSelect(statement), {"domain": "other.example"}).scalar() is None


def test_a_union_with_one_parameter_used_twice(session, factory):
    lead = factory.lead(last_name="Lovelace", email="ada@engine.example")
    contact = factory.contact(last_name="Lovelace", email="ada@engine.example")
    email = bindparam("email")
    statement = union_all(
        select(literal_column("'lead'").label("kind"), Lead.id).where(Lead.email == email),
        select(literal_column("'contact'").label("kind"), Contact.id).where(Contact.email == email),
    )
    assert sorted(both(session, statement, {"email": "ada@engine.example"})) == sorted(
        [("lead", lead.id), ("contact", contact.id)]
    )


def test_deferred_rows_are_written_before_a_read_that_may_see_them(session, factory):
    lead = factory.lead(last_name="Hopper", email="grace@navy.example")  # its row waits in the unit of work
    statement = PlainSelect(select(Lead.id).where(Lead.email == bindparam("email")))
    assert read(session, statement, {"email": "grace@navy.example"}).all() == [(lead.id,)]


def test_an_expanding_in_list_is_refused(session):
    statement = PlainSelect(select(Lead.id).where(Lead.email.in_(bindparam("emails", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        read(session, statement, {"emails": ["a@b.example"]})
